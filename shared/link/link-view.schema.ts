import * as z from 'zod';
import { LinkActivitySchema } from './link-activity.schema.ts';

/**
 * The API's representation of a link (`../shared/ARCHITECTURE.md`, HTTP API) as a published
 * contract: `infra/schemas` generates the OpenAPI document from it and tests check responses
 * against it. Nothing at run time parses a view, so the functions import only its type.
 */
export const LinkViewSchema = z
  .object({
    linkId: z.string(),
    status: z.string().nullable().describe('`null` until InstantPay has answered once'),
    final: z.boolean(),
    amount: z.number().nullable(),
    activity: z.array(LinkActivitySchema).describe('Every activity entry seen, personal data masked'),
    sequence: z.number().int().min(0).describe('The number of recorded changes'),
    firstSeenAt: z.string().nullable(),
    lastCheckedAt: z.string().nullable(),
    nextCheckAt: z.string().nullable().describe('`null` when the link is not watched'),
    checks: z.number().int().min(0),
    reference: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    upstream: z
      .object({
        statuscode: z.string(),
        ipayUuid: z.string().nullable(),
        environment: z.string().nullable(),
        timestamp: z.string().nullable(),
      })
      .nullable(),
    watchEnded: z
      .object({
        reason: z
          .enum(['unwatched', 'upstream-errors', 'expired-unreachable'])
          .describe(
            '`unwatched`: `DELETE /links/{linkId}`; `upstream-errors`: InstantPay answered only non-transient errors for this link (an id it does not know, an unusable answer) for 7 days; `expired-unreachable`: checks still failed a day past `expiresAt`',
          ),
        at: z.string(),
      })
      .optional()
      .describe(
        'Present when the tracker stopped watching a link that is not final; any successful check or `POST /links` watches it again',
      ),
    lastError: z
      .object({
        error: z
          .string()
          .describe('The class of the error, e.g. `LinkNotFoundError`, `UpstreamUnavailableError`'),
        statuscode: z.string().optional().describe("InstantPay's `statuscode`, when it answered one"),
        at: z.string(),
      })
      .optional()
      .describe('The last scheduled check failed: present until a check succeeds'),
  })
  .meta({ title: 'LinkView' });
export type LinkView = z.infer<typeof LinkViewSchema>;
