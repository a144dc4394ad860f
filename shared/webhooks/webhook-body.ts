import * as z from 'zod';
import {
  ACTIVITY_ADDED,
  type DetailType,
  type LinkEventDetail,
  LinkEventDetailSchema,
} from '#shared/link/link-event.ts';

/** The contract's webhook body: `{type, timestamp, data}` with `data` the event detail. */
export const WebhookBodySchema = z
  .object({
    type: z
      .string()
      .regex(/^payout_link\.[a-z0-9_]+$/)
      .describe('`payout_link.<status lower-case>` or `payout_link.activity`'),
    timestamp: z.string().describe('When the change was observed (ISO 8601)'),
    data: LinkEventDetailSchema,
  })
  .meta({ title: 'WebhookBody' });
export type WebhookBody = z.infer<typeof WebhookBodySchema>;

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
