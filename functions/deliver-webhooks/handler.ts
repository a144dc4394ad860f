import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';
import { systemClock } from '#shared/clock.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { loadDeliveryConfig } from '#shared/webhooks/delivery-config.ts';
import { loopbackAllowedIn } from '#shared/webhooks/subscriber.ts';
import { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { webhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { createDeliverer } from './app.ts';

// Cold start: parse the environment once, one client and one cached secret per subscriber.
const config = loadDeliveryConfig();
const logger = createLogger('deliver-webhooks');
// Its metrics are one EMF line per delivery, written by the deliverer (no Powertools Metrics).
const metrics = createEmfWriter('deliver-webhooks', config.stage);
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

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => deliver(event));
