import type { StageConfig } from '#infra/config/stage-config.ts';
import { EVENT_SOURCE } from '#shared/link/link-event.ts';
import { eventConsoleName } from '#shared/resource-names.ts';
import { type DeliveryTarget, deliveryTarget, type QueueRef } from '#shared/webhooks/delivery-config.ts';
import {
  createBus,
  createDeliveriesTable,
  createQueue,
  createRuleToQueue,
  createSubscriberRouting,
  createTable,
  type LocalClients,
  putSecret,
} from './aws-resources.ts';
import { LOCAL_RESOURCES } from './local-stage.ts';

export interface LocalResources {
  /** What `deliver-webhooks` is told of each subscriber (`WEBHOOK_SUBSCRIBERS`). */
  targets: DeliveryTarget[];
  /** Each subscriber's queue, in the order of `targets`. */
  queues: QueueRef[];
  /** The local cloud's own queue of every event on the bus, for the console. */
  consoleQueue: QueueRef;
}

/**
 * Creates on the emulator what the stack creates for the stage, from the same definitions: the
 * tables, the bus, each subscriber's rule, queues and secret, and the InstantPay secret; plus a
 * rule and queue of the local cloud's own that print every event.
 */
export async function createLocalResources(
  clients: LocalClients,
  config: StageConfig,
  secrets: { webhook: string; instantPay: Record<string, unknown> },
): Promise<LocalResources> {
  await ignoreExisting(createTable(clients, LOCAL_RESOURCES.tableName));
  await ignoreExisting(createDeliveriesTable(clients, LOCAL_RESOURCES.deliveriesTableName));
  const bus = LOCAL_RESOURCES.eventBusName;
  await ignoreExisting(createBus(clients, bus));
  const targets: DeliveryTarget[] = [];
  const queues: QueueRef[] = [];
  for (const subscriber of config.subscribers) {
    const routing = await createSubscriberRouting(clients, { stage: config.stage, busName: bus, subscriber });
    await putSecret(clients, subscriber.secretName, { current: secrets.webhook });
    targets.push(deliveryTarget(subscriber, routing));
    queues.push(routing.queue);
  }
  const consoleQueue = await createQueue(clients, eventConsoleName(config.stage));
  await createRuleToQueue(clients, {
    busName: bus,
    ruleName: eventConsoleName(config.stage),
    pattern: { source: [EVENT_SOURCE] },
    queueArn: consoleQueue.arn,
  });
  await putSecret(clients, config.instantPaySecretName, secrets.instantPay);
  return { targets, queues, consoleQueue };
}

async function ignoreExisting(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!/ResourceInUse|AlreadyExists|ResourceExists/.test((error as Error).name)) throw error;
  }
}
