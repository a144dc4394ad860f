import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createBus,
  createDeliveriesTable,
  createSubscriberRouting,
  createTable,
  localClients,
  putSecret,
} from '#infra/local/aws-resources.ts';
import { pollOnce } from '#infra/local/sqs-event-source.ts';
import { redriveDeadLetters } from '#infra/ops/redrive.ts';
import { systemClock } from '#shared/clock.ts';
import { EventPublisher } from '#shared/events/event-publisher.ts';
import { ACTIVITY_ADDED, eventIdFor, type LinkChange, STATUS_CHANGED } from '#shared/link/link-event.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { DeliveryLog } from '#shared/store/delivery-log.ts';
import type { ResolveHost } from '#shared/webhooks/delivery.ts';
import { type DeliveryTarget, deliveryTarget } from '#shared/webhooks/delivery-config.ts';
import { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { generateWebhookSecret, webhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { captureLog } from '#test/support/capture-log.ts';
import { deliverHandler } from '#test/support/deliver-handler.ts';

const STAGE = 'test';
const clients = localClients();

interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** A subscriber on loopback whose answers are scripted per request. */
class Receiver {
  readonly received: Received[] = [];
  private server!: Server;
  url = '';
  constructor(
    private readonly answer: (count: number, req: IncomingMessage, res: ServerResponse) => void = (
      _c,
      _q,
      res,
    ) => res.writeHead(204).end(),
  ) {}
  async start() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        this.received.push({ headers: req.headers as Record<string, string>, body, at: Date.now() });
        this.answer(this.received.length, req, res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function setup(
  subscribers: Array<{
    name: string;
    receiver: Receiver;
    statuses?: string[];
    detailTypes?: Array<typeof STATUS_CHANGED | typeof ACTIVITY_ADDED>;
    /** Instead of the receiver's own URL. */
    url?: string;
  }>,
  options: { stateCacheMs?: number; allowLoopback?: boolean; resolve?: ResolveHost } = {},
) {
  const id = randomUUID().slice(0, 8);
  const bus = `bus-${id}`;
  const table = `links-${id}`;
  const deliveriesTable = `deliveries-${id}`;
  await createBus(clients, bus);
  await createTable(clients, table);
  await createDeliveriesTable(clients, deliveriesTable);
  const targets: DeliveryTarget[] = [];
  const queues = new Map<
    string,
    { queue: { url: string; arn: string }; deadLetterQueue: { url: string; arn: string } }
  >();
  const secrets = new Map<string, string>();
  for (const s of subscribers) {
    const name = `${s.name}-${id}`;
    const routing = await createSubscriberRouting(clients, {
      stage: STAGE,
      busName: bus,
      subscriber: { ...s, name },
    });
    const secret = generateWebhookSecret();
    const secretName = `test/webhooks/${name}`;
    await putSecret(clients, secretName, { current: secret });
    targets.push(deliveryTarget({ name, url: s.url ?? s.receiver.url, secretName }, routing));
    queues.set(s.name, routing);
    secrets.set(s.name, secret);
  }
  const log = captureLog();
  const metricLines: Array<Record<string, unknown>> = [];
  const state = new SubscriberStateStore(table, { cacheMs: options.stateCacheMs ?? 0 });
  const attempts = new DeliveryLog(deliveriesTable);
  const deliver = deliverHandler({
    targets,
    sqs: clients.sqs,
    state,
    attempts,
    secretFor: (target) => webhookSecret({ secretName: target.secretName }),
    log: log.logger,
    metrics: createEmfWriter('deliver-webhooks', STAGE, {
      env: {},
      write: (line) => metricLines.push(JSON.parse(line)),
    }),
    clock: systemClock,
    random: () => 0,
    // The schedule compressed 10 000 times: its first waits become a second each.
    backoffScale: 1 / 10_000,
    timeoutMs: 500,
    // Receivers on loopback, as in the local stage.
    allowLoopback: options.allowLoopback ?? true,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const publisher = new EventPublisher({ eventBusName: bus });
  /** Runs the delivery on every subscriber queue until `done` or the time is up. */
  async function pump(done: () => boolean, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !done()) {
      let handled = 0;
      for (const routing of queues.values()) handled += await pollOnce(clients.sqs, routing.queue, deliver);
      if (handled === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { table, targets, queues, secrets, publisher, pump, state, log, deliver, metricLines, attempts };
}

function change(
  linkId: string,
  sequence: number,
  status: string,
  detailType: LinkChange['detailType'] = STATUS_CHANGED,
): LinkChange {
  return {
    detailType,
    detail: {
      eventId: eventIdFor(linkId, sequence),
      linkId,
      sequence,
      previousStatus: sequence === 1 ? null : 'ISSUED',
      status,
      final: status === 'CLAIMED',
      amount: 10,
      activity: [],
      observedAt: new Date().toISOString(),
      trigger: 'scheduled',
      stage: STAGE,
      upstream: { ipayUuid: null, timestamp: null, environment: 'SANDBOX' },
    },
  };
}

async function queueDepth(url: string): Promise<number> {
  const { Messages = [] } = await clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
  );
  return Messages.length;
}

const receivers: Receiver[] = [];
async function receiver(answer?: ConstructorParameters<typeof Receiver>[0]) {
  const r = await new Receiver(answer).start();
  receivers.push(r);
  return r;
}
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
});

describe('webhook fan-out on the emulator (bus -> rule -> queue -> deliver-webhooks)', () => {
  it('delivers each event to every subscriber whose filter matches, and to no other, signed', async () => {
    const all = await receiver();
    const claimedOnly = await receiver();
    const activityOnly = await receiver();
    const world = await setup([
      { name: 'all', receiver: all },
      { name: 'claimed', receiver: claimedOnly, statuses: ['CLAIMED'] },
      { name: 'activity', receiver: activityOnly, detailTypes: [ACTIVITY_ADDED] },
    ]);
    const linkId = `link-${randomUUID().slice(0, 8)}`;
    const changes = [
      change(linkId, 1, 'ISSUED'),
      change(linkId, 2, 'ISSUED', ACTIVITY_ADDED),
      change(linkId, 3, 'CLAIMED'),
    ];
    await world.publisher.publish(changes);

    await world.pump(
      () => all.received.length >= 3 && claimedOnly.received.length >= 1 && activityOnly.received.length >= 1,
    );
    await world.pump(() => false, 500);

    expect(all.received.map((r) => r.headers['webhook-id']).sort()).toEqual(
      changes.map((c) => c.detail.eventId).sort(),
    );
    expect(claimedOnly.received.map((r) => JSON.parse(r.body).type)).toEqual(['payout_link.claimed']);
    expect(activityOnly.received.map((r) => JSON.parse(r.body).type)).toEqual(['payout_link.activity']);
    const verifier = new Webhook(world.secrets.get('all')!);
    for (const r of all.received) {
      expect(verifier.verify(r.body, r.headers)).toMatchObject({ data: { linkId } });
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['user-agent']).toContain('payout-link-tracker');
    }
    const body = JSON.parse(claimedOnly.received[0]!.body);
    expect(body).toMatchObject({
      type: 'payout_link.claimed',
      data: { eventId: changes[2]!.detail.eventId, sequence: 3 },
    });
    expect(body.timestamp).toBe(changes[2]!.detail.observedAt);
  });

  it('retries a receiver that answers 500 twice with the same webhook-id until it answers 200, then lets go', async () => {
    const flaky = await receiver((count, _req, res) => res.writeHead(count <= 2 ? 500 : 200).end());
    const world = await setup([{ name: 'flaky', receiver: flaky }]);
    await world.publisher.publish([change(`l-${randomUUID().slice(0, 8)}`, 1, 'ISSUED')]);

    await world.pump(() => flaky.received.length >= 3, 15_000);
    await world.pump(() => false, 1_500);
    expect(flaky.received).toHaveLength(3);
    expect(new Set(flaky.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(await queueDepth(world.queues.get('flaky')!.queue.url)).toBe(0);
    expect(world.log.lines.filter((l) => l.message === 'webhook failed; will retry')).toHaveLength(2);
    expect(world.log.text()).not.toContain(world.secrets.get('flaky')!);
    // One EMF line per delivery attempt, every metric per subscriber (as the dashboard graphs them).
    const subscriber = world.targets[0]!.name;
    expect(world.metricLines.map((line) => [line.WebhookFailed, line.WebhookDelivered])).toEqual([
      [1, undefined],
      [1, undefined],
      [undefined, 1],
    ]);
    for (const line of world.metricLines) {
      expect(line).toMatchObject({ service: 'deliver-webhooks', stage: STAGE, subscriber });
      expect(line.WebhookLatencyMs).toEqual(expect.any(Number));
      expect(
        (line._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics[0]!
          .Dimensions,
      ).toEqual([['service', 'stage', 'subscriber']]);
    }
  });

  it('retries a receiver that hangs past the timeout', async () => {
    const slow = await receiver((count, _req, res) => {
      if (count === 1) setTimeout(() => res.writeHead(200).end(), 2_000);
      else res.writeHead(200).end();
    });
    const world = await setup([{ name: 'slow', receiver: slow }]);
    await world.publisher.publish([change(`l-${randomUUID().slice(0, 8)}`, 1, 'ISSUED')]);
    await world.pump(() => slow.received.length >= 2, 15_000);
    expect(slow.received).toHaveLength(2);
    expect(world.log.lines.some((l) => JSON.stringify(l.attributes).includes('"error":"timeout"'))).toBe(
      true,
    );
  });

  it('honours Retry-After from a 503', async () => {
    const busy = await receiver((count, _req, res) =>
      res.writeHead(count === 1 ? 503 : 200, count === 1 ? { 'retry-after': '2' } : {}).end(),
    );
    const world = await setup([{ name: 'busy', receiver: busy }]);
    await world.publisher.publish([change(`l-${randomUUID().slice(0, 8)}`, 1, 'ISSUED')]);
    await world.pump(() => busy.received.length >= 2, 15_000);
    expect(busy.received[1]!.at - busy.received[0]!.at).toBeGreaterThanOrEqual(1_900);
  });

  it('disables a subscriber that answers 410: deliveries stop and are kept in its dead-letter queue', async () => {
    const gone = await receiver((_count, _req, res) => res.writeHead(410).end());
    const world = await setup([{ name: 'gone', receiver: gone }]);
    const linkId = `l-${randomUUID().slice(0, 8)}`;
    await world.publisher.publish([change(linkId, 1, 'ISSUED')]);
    await world.pump(() => gone.received.length >= 1);
    const name = world.targets[0]!.name;
    await expect(world.state.get(name)).resolves.toMatchObject({ disabled: true, reason: 'HTTP 410 Gone' });
    expect(
      world.log.lines.some((l) => l.level === 'error' && l.message.startsWith('SUBSCRIBER DISABLED')),
    ).toBe(true);

    await world.publisher.publish([change(linkId, 2, 'CLAIMED')]);
    const routing = world.queues.get('gone')!;
    await world.pump(() => false, 1_500);
    expect(gone.received).toHaveLength(1);
    expect(await queueDepth(routing.queue.url)).toBe(0);
    expect(await queueDepth(routing.deadLetterQueue.url)).toBe(2);
  });

  it('after a 410, redrive enables the subscriber again and the kept deliveries arrive, in spite of a warm cache', async () => {
    // Gone once, then back: the operator redrives when the receiver is fixed.
    const back = await receiver((count, _req, res) => res.writeHead(count === 1 ? 410 : 204).end());
    // The deliverer's state cache outlives the test (as a warm container's 30 s would outlive a redrive).
    const world = await setup([{ name: 'back', receiver: back }], { stateCacheMs: 3_600_000 });
    const name = world.targets[0]!.name;
    const routing = world.queues.get('back')!;
    const linkId = `l-${randomUUID().slice(0, 8)}`;
    await world.publisher.publish([change(linkId, 1, 'ISSUED')]);
    await world.pump(() => back.received.length >= 1);
    await world.publisher.publish([change(linkId, 2, 'CLAIMED')]);
    await world.pump(() => false, 1_500);
    expect(back.received).toHaveLength(1);
    expect(await queueDepth(routing.deadLetterQueue.url)).toBe(2);

    const result = await redriveDeadLetters(clients.sqs, {
      stage: STAGE,
      subscriber: name,
      subscriberState: new SubscriberStateStore(world.table, { cacheMs: 0 }),
    });
    expect(result).toMatchObject({
      moved: 2,
      previousState: { disabled: true, reason: 'HTTP 410 Gone', disabledAt: expect.any(String) },
    });
    await world.pump(() => back.received.length >= 3);
    const ids = back.received.map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(3);
    expect(new Set(ids.slice(1))).toEqual(new Set([eventIdFor(linkId, 1), eventIdFor(linkId, 2)]));
    await world.pump(() => false, 500);
    expect(back.received).toHaveLength(3);
    expect(await queueDepth(routing.queue.url)).toBe(0);
    expect(await queueDepth(routing.deadLetterQueue.url)).toBe(0);
    await expect(world.state.get(name)).resolves.toEqual({ disabled: false });
  });
  it('refuses, at delivery, a name resolving to a private address and a loopback receiver in a deployed stage: nothing sent, an error naming the subscriber, retried', async () => {
    const bystander = await receiver();
    const world = await setup(
      [
        { name: 'rebound', receiver: bystander, url: 'https://hooks.example.com/payouts' },
        { name: 'loopback', receiver: bystander },
      ],
      { allowLoopback: false, resolve: async () => [{ address: '10.1.2.3', family: 4 }] },
    );
    await world.publisher.publish([change(`l-${randomUUID().slice(0, 8)}`, 1, 'ISSUED')]);
    const refusals = () =>
      world.log.lines.filter(
        (line) =>
          line.level === 'error' &&
          line.message === 'WEBHOOK NOT SENT: the subscriber URL is refused; will retry',
      );
    // Each subscriber refused twice: the first attempt and its retry.
    await world.pump(() => refusals().length >= 4, 15_000);

    const [rebound, loopback] = world.targets.map((target) => target.name);
    const bySubscriber = (name: string | undefined) =>
      refusals()
        .map((line) => line.attributes[0] as Record<string, unknown>)
        .filter((attributes) => attributes.subscriber === name);
    expect(bySubscriber(rebound).length).toBeGreaterThanOrEqual(2);
    expect(bySubscriber(rebound)[0]).toMatchObject({
      error: 'refused-address',
      refusal: 'the subscriber URL resolves to a non-public address',
      status: null,
      retryInSeconds: expect.any(Number),
    });
    expect(bySubscriber(loopback).length).toBeGreaterThanOrEqual(2);
    expect(bySubscriber(loopback)[0]).toMatchObject({
      error: 'refused-address',
      refusal: 'the subscriber URL must use https, must not point at a loopback address',
    });
    expect(bystander.received).toEqual([]);
    expect(world.log.text()).not.toContain('10.1.2.3');
    expect(world.metricLines.every((line) => line.WebhookFailed === 1)).toBe(true);
  });
});
