import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventSchemas, openApiDocument } from '#infra/schemas/published-schemas.ts';
import { publishedFiles } from '#infra/schemas/write-schemas.ts';
import { webhookBody } from '#shared/webhooks/webhook-body.ts';
import { type ApiResponse, trackerFixture } from '#test/support/tracker-fixture.ts';

let world: Awaited<ReturnType<typeof trackerFixture>>;
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(openApiDocument(), 'openapi.json');

function validate(ref: string, value: unknown) {
  const check = ajv.getSchema(`openapi.json#/components/schemas/${ref}`);
  if (!check) throw new Error(`no schema ${ref}`);
  const ok = check(value);
  expect(ok, JSON.stringify(check.errors)).toBe(true);
}

/** The schema the document promises for this operation and status. */
function promised(path: string, method: string, status: number, response: ApiResponse) {
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

beforeAll(async () => {
  world = await trackerFixture();
});
afterAll(async () => {
  await world.close();
});

describe('published contracts', () => {
  it('are committed exactly as the zod schemas generate them (run `npm run schemas`)', () => {
    for (const [path, text] of Object.entries(publishedFiles())) {
      expect(readFileSync(path, 'utf8'), path).toBe(text);
    }
  });

  it('describe the real responses of the API', async () => {
    const linkId = world.sandbox.createLink({ amount: 40, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    promised(
      '/links',
      'post',
      201,
      await world.call('POST', '/links', { body: { linkId, reference: 'R-9', metadata: { a: 'b' } } }),
    );
    promised('/links', 'post', 200, await world.call('POST', '/links', { body: { linkId } }));
    promised('/links/{linkId}', 'get', 200, await world.call('GET', `/links/${linkId}`));
    promised('/links/{linkId}/events', 'get', 200, await world.call('GET', `/links/${linkId}/events`));
    promised('/links', 'get', 200, await world.call('GET', '/links', { query: 'state=watching' }));
    promised('/links/{linkId}', 'get', 400, await world.call('GET', '/links/bad%20id'));
    promised('/links/{linkId}', 'get', 404, await world.call('GET', '/links/0123456789abcdef01234567'));
    // A method no route has: the problem the document describes as a 405.
    const wrongMethod = await world.call('PUT', `/links/${linkId}`);
    expect(wrongMethod.status).toBe(405);
    validate('Problem', wrongMethod.body);
    promised('/links/{linkId}', 'delete', 204, await world.call('DELETE', `/links/${linkId}`));
  });

  it('describe the real events on the bus and the webhook bodies made from them', async () => {
    const linkId = world.sandbox.createLink({
      amount: 40,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 0, status: 'ISSUED', activity: [{ status: 'Reminder sent to 9876543210' }] },
      ],
    });
    await world.call('GET', `/links/${linkId}`);
    const events = await world.receiveEvents(2);
    const schemas = eventSchemas();
    const byType: Record<string, string> = {
      'Payout Link Status Changed': 'payout-link-status-changed',
      'Payout Link Activity Added': 'payout-link-activity-added',
    };
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      const check = ajv.compile(schemas[byType[event['detail-type']]!]!);
      expect(check(event), JSON.stringify(check.errors)).toBe(true);
      const body = JSON.parse(webhookBody(event['detail-type'], event.detail as never));
      const checkBody = ajv.compile(schemas['webhook-body']!);
      expect(checkBody(body), JSON.stringify(checkBody.errors)).toBe(true);
    }
  });
});
