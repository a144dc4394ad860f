import * as z from 'zod';
import { LinkEventDetailSchema } from '#shared/link/link-event.schema.ts';

/**
 * The contract's webhook body, `{type, timestamp, data}` with `data` the event detail, as a
 * published contract (`docs/schemas/webhook-body.json`). The delivery function builds bodies and
 * never parses one, so it imports only the type.
 */
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
