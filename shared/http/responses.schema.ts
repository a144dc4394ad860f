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
