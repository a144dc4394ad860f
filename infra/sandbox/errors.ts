import type * as z from 'zod';
import { prettifyError } from 'zod';

/** Input to the control API (or its in-process mirror) that fails validation: HTTP 400. */
export class SandboxInputError extends Error {
  override readonly name = 'SandboxInputError';
  readonly httpStatus = 400;
}

/** A scripted link whose id is already taken, or a clock that cannot be moved: HTTP 409. */
export class SandboxConflictError extends Error {
  override readonly name = 'SandboxConflictError';
  readonly httpStatus = 409;
}

/** Parses control input with a schema, turning every failure into a {@link SandboxInputError}. */
export function parseControlInput<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw new SandboxInputError(`Invalid ${what}: ${prettifyError(result.error)}`);
  return result.data;
}
