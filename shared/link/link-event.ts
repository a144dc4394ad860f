import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ActivitySchema } from '#shared/instantpay/schemas.ts';

/** The contract's event vocabulary (`../shared/ARCHITECTURE.md`, Events). */
export const EVENT_SOURCE = 'payout-link-tracker';
export const STATUS_CHANGED = 'Payout Link Status Changed';
export const ACTIVITY_ADDED = 'Payout Link Activity Added';
export type DetailType = typeof STATUS_CHANGED | typeof ACTIVITY_ADDED;
export const DETAIL_TYPES: readonly DetailType[] = [STATUS_CHANGED, ACTIVITY_ADDED];

export type Trigger = 'on-demand' | 'scheduled';

const UpstreamRefSchema = z.object({
  ipayUuid: z.string().nullable().describe("InstantPay's request reference of the observation"),
  timestamp: z.string().nullable().describe("InstantPay's answer time, `YYYY-MM-DD HH:mm:ss` IST"),
  environment: z.string().nullable().describe('`LIVE`, `PRODUCTION` or `SANDBOX`'),
});

/** The `detail` of both event types (and the `data` of a webhook). `activity` holds only the new entries. */
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
      .array(ActivitySchema)
      .describe('The activity entries new with this change, personal data masked'),
    observedAt: z.string().describe('When the tracker observed the change (ISO 8601)'),
    trigger: z.enum(['on-demand', 'scheduled']),
    stage: z.string(),
    reference: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    upstream: UpstreamRefSchema,
  })
  .meta({ title: 'LinkEventDetail' });
export type LinkEventDetail = z.infer<typeof LinkEventDetailSchema>;

export interface LinkChange {
  detailType: DetailType;
  detail: LinkEventDetail;
}

/**
 * Deterministic from (`linkId`, `sequence`): a retry or a republish carries the same id. A name-based
 * UUID (version 5 layout over SHA-1, as RFC 9562 describes) so receivers can store it as a UUID.
 */
export function eventIdFor(linkId: string, sequence: number): string {
  const bytes = createHash('sha1')
    .update(`payout-link-tracker:${linkId}:${sequence}`)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
