import type { SQSClient } from '@aws-sdk/client-sqs';
import { createDeliverWebhooks } from '#functions/deliver-webhooks/app.ts';
import { type AttemptRecorder, createDeliverer, type DelivererDeps } from '#shared/webhooks/deliverer.ts';
import { SqsDeliveryQueue } from '#shared/webhooks/delivery-queue.ts';

/** Records nothing: for tests about the deliveries themselves, not their log. */
export const noAttemptLog: AttemptRecorder = { record: async () => {} };

/**
 * The `deliver-webhooks` function as its wiring builds it (the core deliverer on the SQS adapter, the
 * thin SQS handler), with the clients, clock and attempt log a test gives.
 */
export function deliverHandler(
  deps: Omit<DelivererDeps, 'queue' | 'attempts'> & { sqs: SQSClient; attempts?: AttemptRecorder },
) {
  const { sqs, attempts, ...rest } = deps;
  const deliverer = createDeliverer({
    ...rest,
    queue: new SqsDeliveryQueue(sqs),
    attempts: attempts ?? noAttemptLog,
  });
  return createDeliverWebhooks(deliverer, deps.log, deps.clock);
}
