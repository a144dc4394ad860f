import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { systemClock } from '#shared/clock.ts';
import type { Env } from '#shared/config/runtime-config.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { FUNCTION_NAMES } from '#shared/resource-names.ts';
import { DeliveryLog } from '#shared/store/delivery-log.ts';
import { createDeliverer } from '#shared/webhooks/deliverer.ts';
import { loadDeliveryConfig } from '#shared/webhooks/delivery-config.ts';
import { SqsDeliveryQueue } from '#shared/webhooks/delivery-queue.ts';
import { loopbackAllowedIn } from '#shared/webhooks/subscriber.ts';
import { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { webhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { createDeliverWebhooks } from './app.ts';

export type DeliverHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The `deliver-webhooks` handler, built once from the function's environment: the config, the
 * queues, the attempt log, and one cached secret per subscriber.
 */
export function createDeliverHandler(env: Env): DeliverHandler {
  const config = loadDeliveryConfig(env);
  const logger = createLogger(FUNCTION_NAMES.deliverWebhooks, env);
  // Its metrics are one EMF line per delivery, written by the deliverer (no Powertools Metrics).
  const metrics = createEmfWriter(FUNCTION_NAMES.deliverWebhooks, config.stage, { env });
  const secrets = new Map(
    config.targets.map((target) => [
      target.name,
      webhookSecret({ secretName: target.secretName, maxAgeSeconds: config.secretMaxAgeSeconds }),
    ]),
  );
  const deliverer = createDeliverer({
    targets: config.targets,
    queue: new SqsDeliveryQueue(),
    state: new SubscriberStateStore(config.tableName),
    attempts: new DeliveryLog(config.deliveriesTableName),
    secretFor: (target) => secrets.get(target.name)!,
    log: logger,
    metrics,
    clock: systemClock,
    backoffScale: config.backoffScale,
    allowLoopback: loopbackAllowedIn(config.stage),
  });
  const deliver = createDeliverWebhooks(deliverer, logger, systemClock);
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event) => deliver(event));
}
