import { LINK_ID_PATTERN } from '#shared/link-id.ts';
import * as z from '#shared/zod.ts';

/** Request shapes of the HTTP API (`../shared/ARCHITECTURE.md`); types come from these schemas. */

export const MAX_BODY_BYTES = 16 * 1024;

export const LinkIdSchema = z
  .string()
  .check(z.regex(LINK_ID_PATTERN, 'must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -'));

export const RegisterLinkBodySchema = z.strictObject({
  linkId: LinkIdSchema,
  expiresAt: z.optional(z.iso.datetime({ offset: true })),
  reference: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  metadata: z.optional(
    z
      .record(z.string().check(z.minLength(1), z.maxLength(64)), z.string().check(z.maxLength(256)))
      .check(z.refine((value) => Object.keys(value).length <= 20, 'at most 20 keys')),
  ),
});
export type RegisterLinkBody = z.infer<typeof RegisterLinkBodySchema>;

export const TrackQuerySchema = z.object({
  maxAgeSeconds: z.optional(
    z
      .pipe(z.string().check(z.regex(/^\d{1,6}$/, 'must be a whole number of seconds')), z.transform(Number))
      .check(z.refine((value) => value <= 86_400, 'must be at most 86400')),
  ),
});

export const ListQuerySchema = z.object({
  state: z._default(z.enum(['watching', 'final', 'idle']), 'watching'),
  limit: z._default(
    z
      .pipe(
        z.string().check(z.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')),
        z.transform(Number),
      )
      .check(z.refine((value) => value >= 1 && value <= 100, 'must be from 1 to 100')),
    25,
  ),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
});

/** Field-level problems, each `path: message`, without echoing the input. */
export function describeProblems(error: z.core.$ZodError): string[] {
  return error.issues.slice(0, 10).map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`);
}
