import * as z from 'zod';
import { LinkActivitySchema } from './link-activity.schema.ts';

/**
 * The `detail` of both event types (and the `data` of a webhook) as a published contract:
 * `infra/schemas` generates the event JSON Schemas and the OpenAPI document from it. The tracker
 * builds details itself and never parses one, so the functions import only its type.
 */

const UpstreamRefSchema = z.object({
  ipayUuid: z.string().nullable().describe("InstantPay's request reference of the observation"),
  timestamp: z.string().nullable().describe("InstantPay's answer time, `YYYY-MM-DD HH:mm:ss` IST"),
  environment: z.string().nullable().describe('`LIVE`, `PRODUCTION` or `SANDBOX`'),
});

/** `activity` holds only the new entries. */
export const LinkEventDetailSchema = z
  .object({
    eventId: z
      .string()
      .describe('Deterministic from (linkId, sequence): a retry or a republish carries the same id'),
    linkId: z.string(),
    sequence: z.number().int().min(1).describe('Starts at 1 and grows by 1 per recorded change of the link'),
    previousStatus: z.string().nullable().describe('`null` on the first observation of a link'),
    status: z
      .string()
      .describe('`ISSUED`, `PROCESSING`, `CLAIMED`, `CANCELLED`, `EXPIRED`, or an unknown value kept as is'),
    final: z.boolean().describe('`true` for `CLAIMED`, `CANCELLED` and `EXPIRED`'),
    amount: z.number(),
    activity: z
      .array(LinkActivitySchema)
      .describe('The activity entries new with this change, personal data masked'),
    observedAt: z.string().describe('When the tracker observed the change (ISO 8601)'),
    trigger: z
      .enum(['on-demand', 'scheduled', 'discovered'])
      .describe(
        '`on-demand` (an API call), `scheduled` (a recheck), `discovered` (the first change of a link the discovery run found unregistered)',
      ),
    stage: z.string(),
    reference: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    upstream: UpstreamRefSchema,
  })
  .meta({ title: 'LinkEventDetail' });
export type LinkEventDetail = z.infer<typeof LinkEventDetailSchema>;
