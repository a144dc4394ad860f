import * as z from 'zod';
import { ProblemSchema } from '#shared/http/problem.schema.ts';
import { LIST_STATES, RegisterLinkBodySchema, ResendBodySchema } from '#shared/http/requests.ts';
import {
  DeliveriesResponseSchema,
  EventsResponseSchema,
  LinkListSchema,
  ResendAcceptedSchema,
  SubscribersResponseSchema,
  SubscriberViewSchema,
} from '#shared/http/responses.schema.ts';
import { LinkEventDetailSchema } from '#shared/link/link-event.schema.ts';
import { ACTIVITY_ADDED, EVENT_SOURCE, STATUS_CHANGED } from '#shared/link/link-event.ts';
import { DOCUMENTED_STATUSES } from '#shared/link/link-status.ts';
import { LinkViewSchema } from '#shared/link/link-view.schema.ts';
import { LINK_ID_PATTERN } from '#shared/link-id.ts';
import { SUBSCRIBER_NAME_PATTERN } from '#shared/webhooks/subscriber.ts';
import { WebhookBodySchema } from '#shared/webhooks/webhook-body.schema.ts';

/**
 * The published contracts, generated from the code's own zod schemas (the `*.schema.ts` modules,
 * which only this and the tests import, and the API's request schema): the OpenAPI document of the
 * HTTP API and the JSON Schemas of the two event detail-types and the webhook body.
 * `npm run schemas` writes them under `docs/`; a test fails when the committed files differ.
 */

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.core.$ZodType, io: 'input' | 'output' = 'output'): JsonSchema {
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as JsonSchema;
  delete generated.$schema;
  return generated;
}

const exampleDetail = {
  eventId: '0e5b2d3c-8f1a-5c4e-9b7d-2a6f1e3c4d5b',
  linkId: '65704add83911e52b70ebcbc',
  sequence: 3,
  previousStatus: 'PROCESSING',
  status: 'CLAIMED',
  final: true,
  amount: 120.11,
  activity: [
    {
      status: 'Link Claimed successfully',
      activityAt: '2023-12-12 14:51:31',
      orderId: '1231212092131FDBUT',
      accountType: 'ACCOUNT',
      accountNumber: 'XXXXXXXXXXXX5742',
      accountIfsc: 'YESB0CMSNOC',
    },
  ],
  observedAt: '2023-12-12T09:22:04.512Z',
  trigger: 'scheduled',
  stage: 'prod',
  reference: 'INV-2023-1042',
  upstream: {
    ipayUuid: 'h0009ad8a2eb-7790-4fe2-a9af-8cdb732d668c-WbrjDVgsp8oy',
    timestamp: '2023-12-12 14:52:04',
    environment: 'PRODUCTION',
  },
};

const exampleView = {
  linkId: '65704add83911e52b70ebcbc',
  status: 'CLAIMED',
  final: true,
  amount: 120.11,
  activity: [
    { status: 'Payout link created', activityAt: '2023-12-12 14:51:25' },
    {
      status: 'Payout link notification sent to 84XXXXXX47 and a***@example.com',
      activityAt: '2023-12-12 14:51:26',
    },
  ],
  sequence: 3,
  firstSeenAt: '2023-12-12T09:21:40.118Z',
  lastCheckedAt: '2023-12-12T09:22:04.512Z',
  nextCheckAt: null,
  checks: 4,
  reference: 'INV-2023-1042',
  upstream: {
    statuscode: 'TXN',
    ipayUuid: 'h0009ad8a2eb-7790-4fe2-a9af-8cdb732d668c-WbrjDVgsp8oy',
    environment: 'PRODUCTION',
    timestamp: '2023-12-14 16:42:49',
  },
};

const problemExample = (status: number, slug: string, title: string, detail: string) => ({
  type: `urn:payout-link-tracker:problem:${slug}`,
  title,
  status,
  detail,
  linkId: '65704add83911e52b70ebcbc',
});

function problemResponse(description: string, example: JsonSchema, retryAfter = false) {
  return {
    description,
    ...(retryAfter
      ? {
          headers: {
            'Retry-After': {
              description: 'Seconds to wait before trying again',
              schema: { type: 'integer', minimum: 1 },
            },
          },
        }
      : {}),
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' }, example } },
  };
}

const linkIdParameter = {
  name: 'linkId',
  in: 'path',
  required: true,
  description: 'The InstantPay payout link id; anything else is a 400 and never reaches InstantPay.',
  schema: { type: 'string', pattern: LINK_ID_PATTERN.source },
};

const subscriberNameParameter = {
  name: 'name',
  in: 'path',
  required: true,
  description: "The subscriber's name in the stage config.",
  schema: { type: 'string', pattern: SUBSCRIBER_NAME_PATTERN.source },
};

const exampleSubscriber = {
  name: 'merchant-ledger',
  url: 'https://hooks.example.com/instantpay/payout-links',
  enabled: true,
  lastDeliveredAt: '2023-12-12T09:22:05.204Z',
  lastFailedAt: '2023-12-12T09:22:04.981Z',
  consecutiveFailures: 0,
  deadLetters: 0,
};

const subscriberProblem = (status: number, slug: string, title: string, detail: string) => ({
  type: `urn:payout-link-tracker:problem:${slug}`,
  title,
  status,
  detail,
});

const errors = {
  '400': problemResponse(
    'The request is not valid (the link id, a query parameter or the body).',
    problemExample(
      400,
      'invalid-link-id',
      'Invalid link id',
      'The link id must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-".',
    ),
  ),
  '403': {
    description:
      'The request was not signed with SigV4 by a principal allowed to invoke the API (answered by API Gateway).',
  },
  '404': problemResponse(
    'InstantPay (or the tracker) does not know the link.',
    problemExample(404, 'link-not-found', 'Link not found', 'InstantPay does not know this link.'),
  ),
  '405': problemResponse(
    'The route exists but not with this method; `Allow` says which.',
    problemExample(405, 'method-not-allowed', 'Method not allowed', 'Use GET or DELETE.'),
  ),
  '502': problemResponse(
    "InstantPay rejected the credentials (an operator must fix the secret), refused the tracker's request as an integration fault (RPI, IRT, VCI, OUE: an operator must look), or answered something unusable.",
    problemExample(
      502,
      'upstream-credentials-rejected',
      'InstantPay rejected the tracker credentials',
      'An operator must update the InstantPay secret; retrying will not help until then.',
    ),
  ),
  '503': problemResponse(
    'InstantPay is pending, slow or down; the stored status is unchanged.',
    problemExample(
      503,
      'upstream-unavailable',
      'InstantPay is unavailable',
      'InstantPay did not answer in time. The stored status is unchanged; try again later.',
    ),
    true,
  ),
};

const json = (ref: string, example: unknown) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${ref}` }, example },
});

export function openApiDocument(): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Payout link tracker',
      version: '1.0.0',
      description:
        'Tracks InstantPay payout links: checks a link now, watches it on an adaptive schedule, and publishes every status change exactly once to EventBridge and signed webhooks. Every route needs a SigV4-signed request (IAM authorization).',
    },
    servers: [
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        variables: { apiId: { default: 'abcdef1234' }, region: { default: 'ap-south-1' } },
      },
    ],
    security: [{ sigv4: [] }],
    paths: {
      '/links': {
        get: {
          operationId: 'listLinks',
          summary: 'List links by state, InstantPay status or reference',
          description:
            'Served from an index, never a scan. `state` alone (default `watching`); or `status` or `reference`, each alone (any state) or with `state`; `status` and `reference` together are a 400. With `status` or `reference`, links come idle first, then watching, then final, each by link id.',
          parameters: [
            {
              name: 'state',
              in: 'query',
              schema: { type: 'string', enum: [...LIST_STATES] },
              description:
                '`watching` (the default when neither `status` nor `reference` is given), `final` or `idle`',
            },
            {
              name: 'status',
              in: 'query',
              schema: { type: 'string', enum: [...DOCUMENTED_STATUSES] },
              description: "The link's InstantPay status as last recorded",
            },
            {
              name: 'reference',
              in: 'query',
              schema: { type: 'string', minLength: 1, maxLength: 128 },
              description: 'The exact `reference` the link was registered (or discovered) with',
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 },
            },
            {
              name: 'cursor',
              in: 'query',
              schema: { type: 'string' },
              description: 'The `nextCursor` of the previous page',
            },
          ],
          responses: {
            '200': {
              description: 'A page of links',
              content: json('LinkList', { links: [exampleView], nextCursor: null }),
            },
            '400': errors['400'],
            '403': errors['403'],
            '405': errors['405'],
          },
        },
        post: {
          operationId: 'registerLink',
          summary: 'Register a link for watching (idempotent) and check it once',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/RegisterLink' },
                example: {
                  linkId: '65704add83911e52b70ebcbc',
                  expiresAt: '2023-12-19T09:21:25Z',
                  reference: 'INV-2023-1042',
                  metadata: { customer: 'c-881' },
                },
              },
            },
          },
          responses: {
            '201': { description: 'Registered now', content: json('LinkView', exampleView) },
            '200': { description: 'Already registered', content: json('LinkView', exampleView) },
            ...pick(errors, ['400', '403', '404', '405', '502', '503']),
          },
        },
      },
      '/links/{linkId}': {
        parameters: [linkIdParameter],
        get: {
          operationId: 'trackLink',
          summary:
            'The link now: checked at InstantPay unless final, any change recorded and published, watched if not final',
          description: [
            'A link whose status is final (`CLAIMED`, `CANCELLED`, `EXPIRED`) is answered from the stored state,',
            'without asking InstantPay: a final status never changes. Any other link is checked at InstantPay',
            'now, so the answer is fresh (its `lastCheckedAt` is the time of this request), unless',
            '`maxAgeSeconds` is given and the stored state was checked at most that many seconds ago: then the',
            'stored state is the answer, at most `maxAgeSeconds` old (`lastCheckedAt` says when it was checked),',
            'and InstantPay is not asked. Leave `maxAgeSeconds` out (or give 0) for a fresh answer.',
          ].join(' '),
          parameters: [
            {
              name: 'maxAgeSeconds',
              in: 'query',
              schema: { type: 'integer', minimum: 0, maximum: 86_400 },
              description:
                'How old an answer may be, in seconds: the stored state is answered without asking InstantPay when it was checked at most this long ago. A final link is answered from the stored state whatever its age.',
            },
          ],
          responses: {
            '200': { description: 'The link', content: json('LinkView', exampleView) },
            ...pick(errors, ['400', '403', '404', '405', '502', '503']),
          },
        },
        delete: {
          operationId: 'unwatchLink',
          summary: 'Stop watching the link (its history is kept)',
          responses: {
            '204': { description: 'No longer watched' },
            ...pick(errors, ['400', '403', '404', '405']),
          },
        },
      },
      '/links/{linkId}/events': {
        parameters: [linkIdParameter],
        get: {
          operationId: 'linkEvents',
          summary: "The link's recorded changes, oldest first",
          responses: {
            '200': {
              description: 'The recorded changes',
              content: json('LinkEvents', {
                linkId: exampleDetail.linkId,
                events: [
                  { detailType: STATUS_CHANGED, publishedAt: '2023-12-12T09:22:04.731Z', ...exampleDetail },
                ],
              }),
            },
            ...pick(errors, ['400', '403', '404', '405']),
          },
        },
      },
      '/links/{linkId}/deliveries': {
        parameters: [linkIdParameter],
        get: {
          operationId: 'linkDeliveries',
          summary: "Every webhook delivery of the link's events, per subscriber, with its attempts (30 days)",
          responses: {
            '200': {
              description: 'The deliveries, by sequence then subscriber; attempts oldest first',
              content: json('LinkDeliveries', {
                linkId: exampleDetail.linkId,
                deliveries: [
                  {
                    eventId: exampleDetail.eventId,
                    sequence: 3,
                    type: 'payout_link.claimed',
                    subscriber: 'merchant-ledger',
                    state: 'delivered',
                    attempts: [
                      {
                        attempt: 1,
                        at: '2023-12-12T09:22:04.981Z',
                        outcome: 'failed',
                        httpStatus: 503,
                        latencyMs: 212,
                        nextAttemptAt: '2023-12-12T09:22:09.981Z',
                      },
                      {
                        attempt: 2,
                        at: '2023-12-12T09:22:10.204Z',
                        outcome: 'delivered',
                        httpStatus: 200,
                        latencyMs: 95,
                      },
                    ],
                  },
                ],
              }),
            },
            ...pick(errors, ['400', '403', '404', '405']),
          },
        },
      },
      '/subscribers': {
        get: {
          operationId: 'listSubscribers',
          summary: "The stage's webhook subscribers and their health",
          responses: {
            '200': {
              description: 'Every subscriber of the stage',
              content: json('Subscribers', { subscribers: [exampleSubscriber] }),
            },
            ...pick(errors, ['403', '405']),
          },
        },
      },
      '/subscribers/{name}/resend': {
        parameters: [subscriberNameParameter],
        post: {
          operationId: 'resendEvents',
          summary:
            'Send these events to the subscriber again, with their original webhook-id, whatever their state',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/Resend' },
                example: { eventIds: [exampleDetail.eventId] },
              },
            },
          },
          responses: {
            '202': { description: 'Queued for delivery', content: json('ResendAccepted', { queued: 1 }) },
            '400': errors['400'],
            '403': errors['403'],
            '404': problemResponse(
              'No such subscriber, or some event ids are not events it receives (counted, never echoed); nothing was queued.',
              subscriberProblem(
                404,
                'events-not-found',
                'Events not found',
                '1 of 2 event ids are recorded by no change of this stage. Nothing was queued.',
              ),
            ),
            '405': errors['405'],
            '409': problemResponse(
              'The subscriber is disabled (it answered 410): enable it first; nothing was queued.',
              subscriberProblem(
                409,
                'subscriber-disabled',
                'Subscriber disabled',
                'The subscriber merchant-ledger is disabled since 2023-12-12T09:22:04.981Z. Enable it (POST /subscribers/merchant-ledger/enable) before resending; nothing was queued.',
              ),
            ),
            '503': problemResponse(
              'Some events could not be queued: send the whole request again (receivers dedupe on webhook-id).',
              subscriberProblem(
                503,
                'queue-unavailable',
                'Events not queued',
                "1 events could not be put on the subscriber's queue. Try the whole request again: receivers dedupe on webhook-id.",
              ),
              true,
            ),
          },
        },
      },
      '/subscribers/{name}/enable': {
        parameters: [subscriberNameParameter],
        post: {
          operationId: 'enableSubscriber',
          summary:
            'Enable a subscriber (one a 410 disabled) and move its kept deliveries back to its queue, as redrive does',
          responses: {
            '200': { description: 'The subscriber, enabled', content: json('Subscriber', exampleSubscriber) },
            '400': errors['400'],
            '403': errors['403'],
            '404': problemResponse(
              'The stage has no such subscriber.',
              subscriberProblem(
                404,
                'subscriber-not-found',
                'Subscriber not found',
                'The stage has no subscriber merchant-ledgr.',
              ),
            ),
            '405': errors['405'],
          },
        },
      },
    },
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS Signature Version 4 (service execute-api); IAM authorization on every route.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
      schemas: {
        LinkView: jsonSchema(LinkViewSchema),
        LinkList: jsonSchema(LinkListSchema),
        LinkEvents: jsonSchema(EventsResponseSchema),
        RegisterLink: jsonSchema(RegisterLinkBodySchema, 'input'),
        LinkDeliveries: jsonSchema(DeliveriesResponseSchema),
        Subscribers: jsonSchema(SubscribersResponseSchema),
        Subscriber: jsonSchema(SubscriberViewSchema),
        ResendAccepted: jsonSchema(ResendAcceptedSchema),
        Resend: jsonSchema(ResendBodySchema, 'input'),
        Problem: jsonSchema(ProblemSchema),
      },
    },
  };
}

/** JSON Schemas of what leaves the tracker, for consumers and the EventBridge schema registry. */
export function eventSchemas(): Record<string, JsonSchema> {
  const envelope = (detailType: string) => ({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: detailType,
    description: `The EventBridge event of detail-type "${detailType}", source "${EVENT_SOURCE}".`,
    type: 'object',
    required: ['source', 'detail-type', 'detail'],
    properties: {
      source: { const: EVENT_SOURCE },
      'detail-type': { const: detailType },
      detail: jsonSchema(LinkEventDetailSchema),
    },
  });
  return {
    'payout-link-status-changed': envelope(STATUS_CHANGED),
    'payout-link-activity-added': envelope(ACTIVITY_ADDED),
    'webhook-body': {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      ...jsonSchema(WebhookBodySchema),
    },
  };
}

function pick<T extends Record<string, unknown>>(record: T, keys: Array<keyof T>): Partial<T> {
  return Object.fromEntries(keys.map((key) => [key, record[key]])) as Partial<T>;
}

/**
 * The two events in the form the EventBridge schema registry takes (`JSONSchemaDraft4`), so
 * consumers can download code bindings from the registry the stack creates.
 */
export function registrySchemas(): Array<{ name: string; detailType: string; content: string }> {
  return [STATUS_CHANGED, ACTIVITY_ADDED].map((detailType) => {
    const detail = z.toJSONSchema(LinkEventDetailSchema, {
      target: 'draft-4',
      unrepresentable: 'any',
    }) as JsonSchema;
    delete detail.$schema;
    return {
      name: `${EVENT_SOURCE}@${detailType.replaceAll(' ', '')}`,
      detailType,
      content: JSON.stringify({
        $schema: 'http://json-schema.org/draft-04/schema#',
        title: detailType,
        type: 'object',
        required: ['source', 'detail-type', 'detail'],
        properties: {
          source: { type: 'string', enum: [EVENT_SOURCE] },
          'detail-type': { type: 'string', enum: [detailType] },
          detail,
        },
      }),
    };
  });
}
