import * as z from 'zod';
import { LinkEventDetailSchema } from '#shared/link/link-event.schema.ts';
import { DETAIL_TYPES } from '#shared/link/link-event.ts';
import { LinkViewSchema } from '#shared/link/link-view.schema.ts';

/**
 * Response shapes of the HTTP API in classic zod: the OpenAPI document is generated from these.
 * Published contracts only (the API builds its responses and never parses them): no function
 * imports this module.
 */

export const EventsResponseSchema = z
  .object({
    linkId: z.string(),
    events: z.array(
      LinkEventDetailSchema.extend({
        detailType: z.enum(DETAIL_TYPES as [string, ...string[]]),
        publishedAt: z
          .string()
          .nullable()
          .describe('When the change reached the bus; `null` while it waits in the outbox'),
      }).meta({ title: 'RecordedEvent' }),
    ),
  })
  .meta({ title: 'LinkEvents' });

export const LinkListSchema = z
  .object({
    links: z.array(LinkViewSchema),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; `null` on the last page'),
  })
  .meta({ title: 'LinkList' });

const isoTime = () => z.string().describe('ISO 8601, UTC');

export const DeliveryAttemptSchema = z
  .object({
    attempt: z
      .number()
      .int()
      .min(1)
      .describe('1 for the first attempt of this delivery; resends continue the count'),
    at: isoTime().describe('When the attempt started (ISO 8601, UTC)'),
    outcome: z.enum(['delivered', 'failed', 'gone']).describe('`gone`: the receiver answered 410'),
    httpStatus: z
      .number()
      .int()
      .min(100)
      .max(599)
      .optional()
      .describe("The receiver's HTTP status, when it answered"),
    error: z
      .enum(['timeout', 'connection', 'refused-address'])
      .optional()
      .describe('Why there was no HTTP status'),
    latencyMs: z.number().int().min(0).optional(),
    nextAttemptAt: isoTime()
      .optional()
      .describe('When the next attempt is due, while the delivery is retried'),
  })
  .strict()
  .meta({ title: 'DeliveryAttempt' });

export const DeliverySchema = z
  .object({
    eventId: z.string().describe('The `webhook-id` the receiver sees'),
    sequence: z.number().int().min(0),
    type: z.string().describe('The webhook `type` (`payout_link.claimed`)'),
    subscriber: z.string(),
    state: z
      .enum(['pending', 'delivered', 'dead-lettered', 'disabled'])
      .describe('`pending`: retrying; `disabled`: kept because the subscriber is disabled'),
    attempts: z.array(DeliveryAttemptSchema).describe('Oldest first; kept 30 days'),
  })
  .strict()
  .meta({ title: 'Delivery' });

export const DeliveriesResponseSchema = z
  .object({ linkId: z.string(), deliveries: z.array(DeliverySchema) })
  .strict()
  .meta({ title: 'LinkDeliveries' });

export const SubscriberViewSchema = z
  .object({
    name: z.string(),
    url: z.string().describe('Scheme, host and path: never a query string or credentials'),
    enabled: z.boolean(),
    disabledAt: isoTime().optional(),
    disabledReason: z.string().optional(),
    lastDeliveredAt: isoTime().optional(),
    lastFailedAt: isoTime().optional(),
    consecutiveFailures: z.number().int().min(0).describe('Failed attempts since the last delivered one'),
    deadLetters: z
      .number()
      .int()
      .min(0)
      .describe("Messages in the subscriber's dead-letter queue (approximate)"),
  })
  .strict()
  .meta({ title: 'Subscriber' });

export const SubscribersResponseSchema = z
  .object({ subscribers: z.array(SubscriberViewSchema) })
  .strict()
  .meta({ title: 'Subscribers' });

export const ResendAcceptedSchema = z
  .object({ queued: z.number().int().min(1).describe('Events put on the subscriber queue') })
  .strict()
  .meta({ title: 'ResendAccepted' });
