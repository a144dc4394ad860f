import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';
import { systemClock } from '#shared/clock.ts';
import type { Env } from '#shared/config/runtime-config.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { FUNCTION_NAMES } from '#shared/resource-names.ts';
import { loadDeliveryConfig } from '#shared/webhooks/delivery-config.ts';
import { loopbackAllowedIn } from '#shared/webhooks/subscriber.ts';
import { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { webhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { createDeliverer } from './app.ts';

export type DeliverHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The `deliver-webhooks` handler, built once from the function's environment: the config, one
 * client, and one cached secret per subscriber.
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
  const deliver = createDeliverer({
    stage: config.stage,
    targets: config.targets,
    sqs: new SQSClient(AWS_CLIENT_CONFIG),
    state: new SubscriberStateStore(config.tableName),
    secretFor: (target) => secrets.get(target.name)!,
    log: logger,
    metrics,
    clock: systemClock,
    allowLoopback: loopbackAllowedIn(config.stage),
  });
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event) => deliver(event));
}
