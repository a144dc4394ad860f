import { ACTIVITY_ADDED, type DetailType, type LinkEventDetail } from '#shared/link/link-event.ts';
import type { WebhookBody } from './webhook-body.schema.ts';

/** The contract's webhook body: `{type, timestamp, data}`; its schema is in `webhook-body.schema.ts`. */
export type { WebhookBody };

export function webhookType(detailType: DetailType | string, status: string): string {
  // Unknown statuses are kept: lower-cased, with anything but letters, digits and _ made _.
  return detailType === ACTIVITY_ADDED
    ? 'payout_link.activity'
    : `payout_link.${status.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
}

/** The same event always gives the same body, so every retry carries identical bytes. */
export function webhookBody(detailType: DetailType | string, detail: LinkEventDetail): string {
  const body: WebhookBody = {
    type: webhookType(detailType, detail.status),
    timestamp: detail.observedAt,
    data: detail,
  };
  return JSON.stringify(body);
}
