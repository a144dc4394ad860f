import { createHash } from 'node:crypto';
import type { LinkEventDetail } from './link-event.schema.ts';

/** The contract's event vocabulary (`../shared/ARCHITECTURE.md`, Events). */
export const EVENT_SOURCE = 'payout-link-tracker';
export const STATUS_CHANGED = 'Payout Link Status Changed';
export const ACTIVITY_ADDED = 'Payout Link Activity Added';
export type DetailType = typeof STATUS_CHANGED | typeof ACTIVITY_ADDED;
export const DETAIL_TYPES: readonly DetailType[] = [STATUS_CHANGED, ACTIVITY_ADDED];

/** `discovered`: the first change of a link the discovery run found through InstantPay's List call. */
export type Trigger = 'on-demand' | 'scheduled' | 'discovered';

/**
 * The `detail` of both event types (and the `data` of a webhook); its schema, a published contract,
 * is in `link-event.schema.ts`.
 */
export type { LinkEventDetail };

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
