import { ACTIVITY_ADDED, type DetailType, type LinkEventDetail } from '#shared/link/link-event.ts';

/** The contract's webhook body: `{type, timestamp, data}` with `data` the event detail. */
export interface WebhookBody {
  type: string;
  timestamp: string;
  data: LinkEventDetail;
}

export function webhookType(detailType: DetailType | string, status: string): string {
  return detailType === ACTIVITY_ADDED ? 'payout_link.activity' : `payout_link.${status.toLowerCase()}`;
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
