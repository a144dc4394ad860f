import * as z from 'zod';
import { LINK_ID_PATTERN } from '#shared/link-id.ts';

/** Request shapes of the HTTP API (`../shared/ARCHITECTURE.md`); types come from these schemas. */

export const MAX_BODY_BYTES = 16 * 1024;

export const LinkIdSchema = z
  .string()
  .regex(LINK_ID_PATTERN, 'must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -');

export const RegisterLinkBodySchema = z.strictObject({
  linkId: LinkIdSchema,
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  reference: z.string().min(1).max(128).optional(),
  metadata: z
    .record(z.string().min(1).max(64), z.string().max(256))
    .refine((value) => Object.keys(value).length <= 20, 'at most 20 keys')
    .optional(),
});
export type RegisterLinkBody = z.infer<typeof RegisterLinkBodySchema>;

export const TrackQuerySchema = z.object({
  maxAgeSeconds: z
    .string()
    .regex(/^\d{1,6}$/, 'must be a whole number of seconds')
    .transform(Number)
    .refine((value) => value <= 86_400, 'must be at most 86400')
    .optional(),
});

export const ListQuerySchema = z.object({
  state: z.enum(['watching', 'final', 'idle']).default('watching'),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
    .transform(Number)
    .refine((value) => value >= 1 && value <= 100, 'must be from 1 to 100')
    .default(25),
  cursor: z.string().min(1).max(1024).optional(),
});

/** Field-level problems, each `path: message`, without echoing the input. */
export function describeProblems(error: z.ZodError): string[] {
  return error.issues.slice(0, 10).map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`);
}
