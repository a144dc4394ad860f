import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { openApiDocument } from '#infra/schemas/published-schemas.ts';
import type { ApiResponse } from './tracker-fixture.ts';

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(openApiDocument(), 'openapi.json');

/** Checks a value against a component schema of the published OpenAPI document. */
export function validate(ref: string, value: unknown): void {
  const check = ajv.getSchema(`openapi.json#/components/schemas/${ref}`);
  if (!check) throw new Error(`no schema ${ref}`);
  const ok = check(value);
  expect(ok, JSON.stringify(check.errors)).toBe(true);
}

/**
 * Checks a real response against what the document promises for this operation and status: the
 * status is documented, and the body has the documented media type and schema.
 */
export function promised(path: string, method: string, status: number, response: ApiResponse): void {
  expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBe(status);
  const operation = (
    openApiDocument().paths as Record<
      string,
      Record<
        string,
        { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> }
      >
    >
  )[path]?.[method];
  const declared = operation?.responses[String(status)];
  expect(declared, `${method} ${path} ${status} is documented`).toBeDefined();
  const [type, media] = Object.entries(declared?.content ?? {})[0] ?? [];
  if (!media) return;
  expect(response.headers['content-type']).toBe(type);
  validate(media.schema.$ref.split('/').pop()!, response.body);
}
