import { randomUUID } from 'node:crypto';
import { createApi } from '#functions/track-link/app.ts';
import { createDeliveriesTable, createSubscriberRouting, putSecret } from '#infra/local/aws-resources.ts';
import { pollOnce } from '#infra/local/sqs-event-source.ts';
import { systemClock } from '#shared/clock.ts';
import type { DetailType } from '#shared/link/link-event.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { DeliveryLog } from '#shared/store/delivery-log.ts';
import { DeliveryAdmin } from '#shared/webhooks/delivery-admin.ts';
import { type DeliveryTarget, deliveryTarget, type QueueRef } from '#shared/webhooks/delivery-config.ts';
import { SqsDeliveryQueue } from '#shared/webhooks/delivery-queue.ts';
import { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { generateWebhookSecret, webhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { captureLog } from './capture-log.ts';
import { deliverHandler } from './deliver-handler.ts';
import type { ScriptedReceiver } from './scripted-receiver.ts';
import { apiCaller, trackerFixture } from './tracker-fixture.ts';

export interface WorldSubscriber {
  name: string;
  receiver: ScriptedReceiver;
  statuses?: string[];
  detailTypes?: DetailType[];
  /** Instead of the receiver's URL as it is (a query string, say). */
  url?: string;
}

/**
 * The tracker fixture (table, bus, sandbox, core) with webhook subscribers on its bus as the stack
 * makes them, the attempt log, `deliver-webhooks` as its wiring builds it (backoff compressed), and
 * the API with its delivery routes: everything on the emulator, over real HTTP to the receivers.
 */
export async function deliveriesWorld(subscribers: readonly WorldSubscriber[]) {
  const world = await trackerFixture();
  const id = randomUUID().slice(0, 6);
  const deliveriesTable = `deliveries-${id}`;
  await createDeliveriesTable(world.clients, deliveriesTable);
  const targets: DeliveryTarget[] = [];
  const queues = new Map<string, { queue: QueueRef; deadLetterQueue: QueueRef }>();
  const secrets = new Map<string, string>();
  const names = new Map<string, string>();
  for (const subscriber of subscribers) {
    const name = `${subscriber.name}-${id}`;
    const routing = await createSubscriberRouting(world.clients, {
      stage: world.config.stage,
      busName: world.names.bus,
      subscriber: { ...subscriber, name },
    });
    const secret = generateWebhookSecret();
    const secretName = `test/webhooks/${name}`;
    await putSecret(world.clients, secretName, { current: secret });
    targets.push(
      deliveryTarget(
        {
          name,
          url: subscriber.url ?? subscriber.receiver.url,
          secretName,
          ...(subscriber.statuses ? { statuses: subscriber.statuses } : {}),
          ...(subscriber.detailTypes ? { detailTypes: subscriber.detailTypes } : {}),
        },
        routing,
      ),
    );
    queues.set(name, routing);
    secrets.set(name, secret);
    names.set(subscriber.name, name);
  }
  const log = captureLog();
  const state = new SubscriberStateStore(world.names.table, { cacheMs: 0 });
  const attempts = new DeliveryLog(deliveriesTable);
  const deliver = deliverHandler({
    targets,
    sqs: world.clients.sqs,
    state,
    attempts,
    secretFor: (target) => webhookSecret({ secretName: target.secretName }),
    log: log.logger,
    metrics: createEmfWriter('deliver-webhooks', world.config.stage, { env: {}, write: () => {} }),
    clock: systemClock,
    random: () => 0,
    // The schedule compressed 10 000 times: each early retry comes a second later.
    backoffScale: 1 / 10_000,
    timeoutMs: 1_000,
    allowLoopback: true,
  });
  const admin = new DeliveryAdmin({
    targets,
    attempts,
    state,
    queue: new SqsDeliveryQueue(world.clients.sqs),
    links: world.store,
    changes: world.queries,
  });
  const api = createApi(world.requests, log.logger, admin);

  /** The SQS event sources of every subscriber queue, polled until `done` or the time is up. */
  async function pump(done: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !(await done())) {
      let handled = 0;
      for (const routing of queues.values())
        handled += await pollOnce(world.clients.sqs, routing.queue, deliver);
      if (handled === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    ...world,
    api,
    call: apiCaller(api),
    /** The subscriber's name in this world (its given name with the world's suffix). */
    nameOf: (given: string) => names.get(given)!,
    targets,
    queues,
    secrets,
    state,
    attempts,
    deliveriesTable,
    deliverLog: log,
    pump,
  };
}
