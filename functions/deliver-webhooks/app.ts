import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Clock } from '#shared/clock.ts';
import type { Log } from '#shared/observability/log.ts';
import type { Deliverer } from '#shared/webhooks/deliverer.ts';
import type { QueuedDelivery } from '#shared/webhooks/delivery-queue.ts';

/**
 * The `deliver-webhooks` function as a plain function of an SQS batch: each record is one event for
 * the subscriber whose queue it came from; what the deliverer has not done with is reported as a
 * batch item failure, so SQS hands it back when its retry is due.
 */
export function createDeliverWebhooks(deliverer: Deliverer, log: Log, clock: Clock) {
  return async function deliver(event: SQSEvent): Promise<SQSBatchResponse> {
    const outcomes = await Promise.all(
      event.Records.map(async (record) => {
        const target = deliverer.targetOf(record.eventSourceARN);
        if (!target) {
          log.error('message from a queue of no known subscriber', { queue: record.eventSourceARN });
          return { record, done: false };
        }
        return { record, done: await deliverer.deliver(target, queuedDelivery(record, clock)) };
      }),
    );
    return {
      batchItemFailures: outcomes
        .filter((outcome) => !outcome.done)
        .map((outcome) => ({ itemIdentifier: outcome.record.messageId })),
    };
  };
}

function queuedDelivery(record: SQSRecord, clock: Clock): QueuedDelivery {
  return {
    messageId: record.messageId,
    receiptHandle: record.receiptHandle,
    body: record.body,
    receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
    firstSentAt: Number(record.attributes.SentTimestamp) || clock.now(),
  };
}
