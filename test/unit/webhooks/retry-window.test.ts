import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { eventIdFor, STATUS_CHANGED } from '#shared/link/link-event.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { webhookResourceNames } from '#shared/resource-names.ts';
import { type AttemptResult, decide } from '#shared/webhooks/delivery.ts';
import {
  MAX_VISIBILITY_SECONDS,
  RETRY_WINDOW_MS,
  retryFloorSeconds,
  WEBHOOK_QUEUE,
} from '#shared/webhooks/routing.ts';
import type { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { generateWebhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { captureLog } from '#test/support/capture-log.ts';
import { deliverHandler } from '#test/support/deliver-handler.ts';

/**
 * A delivery's whole life, simulated: SQS is modelled here (its documented rules for one message:
 * each receive adds one to the receive count and hides the message for the visibility the function
 * set, or the queue's own; the receive after `maxReceiveCount` moves it to the dead-letter queue
 * instead), because 24 hours of visibility timeouts cannot be run on the emulator. Everything else
 * is real: the deliverer, its jittered schedule, and the subscriber's answers over loopback HTTP.
 */
const T0 = Date.parse('2026-12-05T10:00:00Z');
const STAGE = 'test';
const NAME = 'sim';
const names = webhookResourceNames(STAGE, NAME);
const ARN = `arn:aws:sqs:ap-south-1:000000000000:${names.queue}`;
const DLQ_URL = `https://sqs.ap-south-1.amazonaws.com/000000000000/${names.deadLetterQueue}`;
/** "Soon after" the window: the last wait ends at the window's end, and the attempt there fails. */
const SOON_MS = 60_000;

/** Loopback answers, by path. */
const ANSWERS: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {};
const RETRY_AFTERS = {
  none: undefined,
  '0': '0',
  '1': '1',
  negative: '-30',
  garbage: 'in a while',
  huge: '99999999999999999999',
  'past-date': 'Wed, 21 Oct 2015 07:28:00 GMT',
  'far-future-date': 'Fri, 01 Jan 2100 00:00:00 GMT',
};
for (const status of [429, 503]) {
  for (const [label, header] of Object.entries(RETRY_AFTERS)) {
    ANSWERS[`/${status}/retry-after/${label}`] = (_req, res) =>
      res.writeHead(status, header === undefined ? {} : { 'retry-after': header }).end();
  }
}
for (const status of [500, 400, 404]) ANSWERS[`/${status}`] = (_req, res) => res.writeHead(status).end();
ANSWERS['/301'] = (_req, res) => res.writeHead(301, { location: 'https://elsewhere.example/' }).end();
ANSWERS['/reset'] = (req) => req.socket.destroy();
ANSWERS['/hang'] = () => {};

let base = '';
let closedPort = 0;
const unscripted: string[] = [];
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const answer = ANSWERS[req.url ?? ''];
    if (answer) answer(req, res);
    else {
      unscripted.push(req.url ?? '');
      res.writeHead(418).end();
    }
  });
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});
afterAll(async () => {
  expect(unscripted).toEqual([]);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Life {
  fate: 'delivered' | 'dead-lettered by the function' | 'dead-lettered by the redrive policy';
  atMs: number;
  receives: number;
  holds: number[];
  reason?: string;
  /** What each failed attempt was, as the deliverer logged it: `HTTP 503`, `timeout`, ... */
  outcomes: Set<string>;
}
const hours = (ms: number) => `${(ms / 3_600_000).toFixed(3)} h`;
const told = (life: Life) =>
  `${life.fate} after ${hours(life.atMs - T0)} and ${life.receives} receives; holds ${life.holds.join(', ')} s`;

/** One message for one subscriber, from its first receive to its end. */
async function lifeOf(
  subscriber: { url?: string; secretFails?: boolean; resolveTo?: string },
  random: () => number,
): Promise<Life> {
  const clock = new ManualClock(T0);
  let hold: number | undefined;
  const deadLetters: string[] = [];
  const sqs = {
    async send(command: unknown) {
      if (command instanceof ChangeMessageVisibilityCommand) {
        const seconds = command.input.VisibilityTimeout;
        // SQS refuses anything else (InvalidParameterValue).
        if (!Number.isInteger(seconds) || seconds! < 0 || seconds! > MAX_VISIBILITY_SECONDS)
          throw new Error(`InvalidParameterValue: VisibilityTimeout ${seconds}`);
        hold = seconds;
        return {};
      }
      if (command instanceof SendMessageCommand) {
        expect(command.input.QueueUrl).toBe(DLQ_URL);
        deadLetters.push(command.input.MessageAttributes?.reason?.StringValue ?? '');
        return {};
      }
      throw new Error('unexpected SQS call');
    },
  } as unknown as SQSClient;
  const secret = generateWebhookSecret();
  const log = captureLog();
  const deliver = deliverHandler({
    targets: [
      {
        name: NAME,
        url: subscriber.url ?? `${base}/500`,
        secretName: 'sim/secret',
        queueUrl: `https://sqs.ap-south-1.amazonaws.com/000000000000/${names.queue}`,
        queueArn: ARN,
        deadLetterQueueUrl: DLQ_URL,
        deadLetterQueueArn: `arn:aws:sqs:ap-south-1:000000000000:${names.deadLetterQueue}`,
      },
    ],
    sqs,
    state: {
      get: async () => ({ disabled: false }),
      set: async () => {},
    } as unknown as SubscriberStateStore,
    secretFor: () => ({
      get: async () => {
        if (subscriber.secretFails) throw new Error('Secrets Manager unreachable');
        return { current: secret };
      },
    }),
    log: log.logger,
    metrics: createEmfWriter('deliver-webhooks', STAGE, { env: {}, write: () => {} }),
    clock,
    random,
    timeoutMs: 100,
    allowLoopback: true,
    ...(subscriber.resolveTo ? { resolve: async () => [{ address: subscriber.resolveTo!, family: 4 }] } : {}),
  });
  const body = JSON.stringify({
    'detail-type': STATUS_CHANGED,
    detail: {
      eventId: eventIdFor('sim-link', 1),
      linkId: 'sim-link',
      sequence: 1,
      previousStatus: null,
      status: 'ISSUED',
      observedAt: new Date(T0).toISOString(),
    },
  });
  const holds: number[] = [];
  const outcomes = new Set<string>();
  let visibleAt = T0;
  for (let receives = 1; ; receives++) {
    clock.set(visibleAt);
    if (receives > WEBHOOK_QUEUE.maxReceiveCount)
      return { fate: 'dead-lettered by the redrive policy', atMs: visibleAt, receives, holds, outcomes };
    hold = undefined;
    const record: SQSRecord = {
      messageId: 'm-1',
      receiptHandle: `rh-${receives}`,
      body,
      attributes: {
        ApproximateReceiveCount: String(receives),
        SentTimestamp: String(T0),
        SenderId: 'events.amazonaws.com',
        ApproximateFirstReceiveTimestamp: String(T0),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: ARN,
      awsRegion: 'ap-south-1',
    };
    log.lines.length = 0;
    const { batchItemFailures } = await deliver({ Records: [record] });
    for (const line of log.lines) {
      const attributes = (line.attributes[0] ?? {}) as { status?: number | null; error?: string };
      if (attributes.status) outcomes.add(`HTTP ${attributes.status}`);
      else if (attributes.error)
        outcomes.add(line.message.includes('unexpectedly') ? 'unexpected' : attributes.error);
    }
    if (deadLetters.length > 0)
      return {
        fate: 'dead-lettered by the function',
        atMs: clock.now(),
        receives,
        holds,
        reason: deadLetters[0]!,
        outcomes,
      };
    if (batchItemFailures.length === 0)
      return { fate: 'delivered', atMs: clock.now(), receives, holds, outcomes };
    holds.push(hold ?? WEBHOOK_QUEUE.visibilityTimeoutSeconds);
    visibleAt = clock.now() + holds.at(-1)! * 1000;
  }
}

/** A seeded generator (mulberry32), so a failure replays. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const RANDOMS: Array<[string, () => () => number]> = [
  ['random always 0', () => () => 0],
  ['random always near 1', () => () => 0.999_999_9],
  ['a seeded random', () => seeded(20261205)],
];

/** Each subscriber, and what every one of its attempts must have been. */
const SUBSCRIBERS: Array<[string, () => Parameters<typeof lifeOf>[0], string]> = [
  ...Object.keys(ANSWERS).map((path): [string, () => Parameters<typeof lifeOf>[0], string] => {
    const status = /^\/(\d{3})/.exec(path)?.[1];
    return [
      `answering ${path.slice(1)}`,
      () => ({ url: `${base}${path}` }),
      status ? `HTTP ${status}` : path === '/reset' ? 'connection' : 'timeout',
    ];
  }),
  ['refusing connections', () => ({ url: `http://127.0.0.1:${closedPort}/hook` }), 'connection'],
  [
    'whose name resolves to a private address',
    () => ({ url: 'https://hooks.example.com/hook', resolveTo: '10.0.0.7' }),
    'refused-address',
  ],
  ['whose deliveries fail unexpectedly (its secret unreadable)', () => ({ secretFails: true }), 'unexpected'],
];

describe('a failing delivery over its whole life', () => {
  it.each(SUBSCRIBERS)(
    'to a subscriber %s, is kept for 24 hours, then dead-lettered by the function',
    async (_label, subscriber, outcome) => {
      for (const [randomLabel, random] of RANDOMS) {
        const life = await lifeOf(subscriber(), random());
        const story = `${randomLabel}: ${told(life)}`;
        expect([...life.outcomes], story).toEqual([outcome]);
        expect(life.fate, story).toBe('dead-lettered by the function');
        expect(life.atMs - T0, story).toBeGreaterThanOrEqual(RETRY_WINDOW_MS);
        expect(life.atMs - T0, story).toBeLessThanOrEqual(RETRY_WINDOW_MS + SOON_MS);
        expect(life.reason, story).toMatch(/^retried for 24 hours; last: /);
        expect(life.receives, story).toBeLessThanOrEqual(WEBHOOK_QUEUE.maxReceiveCount);
      }
    },
  );

  it('ends as soon as the subscriber answers 2xx', async () => {
    ANSWERS['/204'] = (_req, res) => res.writeHead(204).end();
    expect(await lifeOf({ url: `${base}/204` }, () => 0)).toMatchObject({
      fate: 'delivered',
      receives: 1,
      atMs: T0,
    });
  });
});

/** The pure model of the same life: any answers, any Retry-After, any draws, and crashed receives. */
describe('the retry schedule against the redrive policy', () => {
  const answer: fc.Arbitrary<AttemptResult | 'crash'> = fc.oneof(
    fc.record({
      status: fc.constantFrom(429, 500, 502, 503, 504, 400, 404, 301),
      retryAfter: fc.option(
        fc.oneof(
          fc.nat().map(String),
          fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
          fc.string(),
          fc.date({ noInvalidDate: true }).map((date) => date.toUTCString()),
        ),
      ),
      latencyMs: fc.constant(1),
    }),
    fc.record({
      error: fc.constantFrom('timeout' as const, 'connection' as const, 'refused-address' as const),
      latencyMs: fc.constant(1),
    }),
    fc.constant('crash' as const),
  );

  it('never lets a delivery reach the dead-letter queue before 24 hours, whatever happens at each receive', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(answer, fc.double({ min: 0, max: 1, noNaN: true })), {
          minLength: 1,
          maxLength: 40,
        }),
        (script) => {
          let at = T0;
          for (let receive = 1; ; receive++) {
            const [result, draw] = script[(receive - 1) % script.length]!;
            if (receive > WEBHOOK_QUEUE.maxReceiveCount) {
              expect(at - T0, `redrive at receive ${receive}`).toBeGreaterThanOrEqual(RETRY_WINDOW_MS);
              return;
            }
            if (result === 'crash') {
              at += WEBHOOK_QUEUE.visibilityTimeoutSeconds * 1000;
              continue;
            }
            const decision = decide(result, receive, T0, at, { random: () => draw });
            if (decision.kind === 'dead') {
              expect(at - T0).toBeGreaterThanOrEqual(RETRY_WINDOW_MS);
              return;
            }
            expect(decision.kind).toBe('retry');
            if (decision.kind !== 'retry') return;
            expect(decision.delaySeconds).toBeLessThanOrEqual(MAX_VISIBILITY_SECONDS);
            // The floor of the attempt, unless the wait ends exactly at the window's end.
            expect(
              decision.delaySeconds >= retryFloorSeconds(receive) ||
                at + decision.delaySeconds * 1000 >= T0 + RETRY_WINDOW_MS,
            ).toBe(true);
            at += decision.delaySeconds * 1000;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
