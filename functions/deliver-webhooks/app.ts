import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Clock } from '#shared/clock.ts';
import type { JsonSecret } from '#shared/credentials/json-secret.ts';
import type { LinkEventDetail } from '#shared/link/link-event.ts';
import type { EmfWriter } from '#shared/observability/emf.ts';
import type { TrackerLog } from '#shared/tracker/link-tracker.ts';
import { backoffSeconds, decide, postWebhook } from '#shared/webhooks/delivery.ts';
import type { DeliveryTarget } from '#shared/webhooks/delivery-config.ts';
import { subscriberOfQueueArn } from '#shared/webhooks/routing.ts';
import type { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { webhookBody } from '#shared/webhooks/webhook-body.ts';
import { activeSecrets, type WebhookSecret } from '#shared/webhooks/webhook-secret.ts';
import * as z from '#shared/zod.ts';

/** The part of an EventBridge event the delivery needs; the rest of `detail` is passed through. */
const BusEventSchema = z.looseObject({
  'detail-type': z.string().check(z.minLength(1)),
  detail: z.looseObject({
    eventId: z.string().check(z.minLength(1)),
    status: z.string().check(z.minLength(1)),
    observedAt: z.string().check(z.minLength(1)),
  }),
});

export interface DelivererDeps {
  stage: string;
  targets: readonly DeliveryTarget[];
  sqs: SQSClient;
  state: SubscriberStateStore;
  secretFor: (target: DeliveryTarget) => JsonSecret<WebhookSecret>;
  log: TrackerLog;
  metrics: EmfWriter;
  clock: Clock;
  random?: () => number;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * The `deliver-webhooks` function as a plain function of an SQS batch: each message is one event for
 * one subscriber (its queue says which). Delivered messages leave the queue; failed ones get their
 * visibility moved to the next retry and are reported as batch item failures; messages past the
 * retry window, or for a subscriber that answered 410, go to its dead-letter queue for redrive.
 */
export function createDeliverer(deps: DelivererDeps) {
  const byName = new Map(deps.targets.map((target) => [target.name, target]));

  /**
   * Disabled (a 410 Gone) until an operator's redrive enables it again. The cached state is enough to
   * deliver; before a delivery is dead-lettered as disabled the table is read again, so a container
   * that cached "disabled" before the redrive does not send the redriven deliveries straight back.
   */
  async function isDisabled(name: string): Promise<boolean> {
    if (!(await deps.state.get(name, deps.clock.now())).disabled) return false;
    return (await deps.state.get(name, deps.clock.now(), { fresh: true })).disabled;
  }

  async function deliverRecord(record: SQSRecord): Promise<boolean> {
    const name = subscriberOfQueueArn(deps.stage, record.eventSourceARN);
    const target = name === undefined ? undefined : byName.get(name);
    if (!target) {
      deps.log.error('message from a queue of no known subscriber', { queue: record.eventSourceARN });
      return false;
    }
    const parsed = BusEventSchema.safeParse(safeJson(record.body));
    if (!parsed.success) {
      await toDeadLetters(target, record, 'not an event of the tracker');
      deps.log.error('undeliverable message moved to the dead-letter queue', {
        subscriber: target.name,
        messageId: record.messageId,
      });
      return true;
    }
    const detail = parsed.data.detail as unknown as LinkEventDetail;
    const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
    const firstSentAt = Number(record.attributes.SentTimestamp) || deps.clock.now();
    const context = { subscriber: target.name, webhookId: detail.eventId, linkId: detail.linkId, attempt };

    if (await isDisabled(target.name)) {
      await toDeadLetters(target, record, 'subscriber disabled');
      deps.log.warn('subscriber disabled: delivery kept in the dead-letter queue', context);
      return true;
    }

    const now = deps.clock.now();
    const secrets = activeSecrets(await deps.secretFor(target).get(), now);
    const body = webhookBody(parsed.data['detail-type'], detail);
    const result = await postWebhook({
      url: target.url,
      id: detail.eventId,
      body,
      secrets,
      timestampSeconds: Math.floor(now / 1000),
      ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }),
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    const decision = decide(result, attempt, firstSentAt, deps.clock.now(), deps.random);
    const logged = {
      ...context,
      status: result.status ?? null,
      error: result.error,
      latencyMs: Math.round(result.latencyMs),
    };
    // One EMF line per delivery, both metrics per subscriber (the dashboard graphs them so).
    deps.metrics.publish(
      [
        { name: 'WebhookLatencyMs', unit: 'Milliseconds', values: [result.latencyMs] },
        {
          name: decision.kind === 'delivered' ? 'WebhookDelivered' : 'WebhookFailed',
          unit: 'Count',
          values: [1],
        },
      ],
      { subscriber: target.name },
    );

    switch (decision.kind) {
      case 'delivered':
        deps.log.info('webhook delivered', logged);
        return true;
      case 'gone':
        await deps.state.set(target.name, {
          disabled: true,
          disabledAt: new Date(now).toISOString(),
          reason: 'HTTP 410 Gone',
        });
        await toDeadLetters(target, record, 'HTTP 410 Gone');
        deps.log.error(
          'SUBSCRIBER DISABLED: it answered 410 Gone; deliveries stop and are kept for redrive',
          logged,
        );
        return true;
      case 'dead':
        await toDeadLetters(target, record, `retried for 24 hours; last: ${decision.reason}`);
        deps.log.error('webhook gave up after the retry window: moved to the dead-letter queue', {
          ...logged,
          reason: decision.reason,
        });
        return true;
      case 'retry':
        await deps.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrlOf(record.eventSourceARN, target),
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: decision.delaySeconds,
          }),
        );
        deps.log.warn('webhook failed; will retry', {
          ...logged,
          reason: decision.reason,
          retryInSeconds: decision.delaySeconds,
        });
        return false;
    }
  }

  /** After an unexpected failure (a secret or the table unreachable), back off as for a failed delivery, not the queue's long default. */
  async function retryLater(record: SQSRecord): Promise<void> {
    const name = subscriberOfQueueArn(deps.stage, record.eventSourceARN);
    const target = name === undefined ? undefined : byName.get(name);
    if (!target) return;
    const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
    await deps.sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrlOf(record.eventSourceARN, target),
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: backoffSeconds(attempt, deps.random),
        }),
      )
      .catch(() => {
        // The queue's own visibility timeout brings the message back anyway.
      });
  }

  async function toDeadLetters(target: DeliveryTarget, record: SQSRecord, reason: string): Promise<void> {
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: target.deadLetterQueueUrl,
        MessageBody: record.body,
        MessageAttributes: {
          subscriber: { DataType: 'String', StringValue: target.name },
          reason: { DataType: 'String', StringValue: reason.slice(0, 256) },
          attempts: { DataType: 'Number', StringValue: record.attributes.ApproximateReceiveCount || '1' },
        },
      }),
    );
  }

  return async function deliver(event: SQSEvent): Promise<SQSBatchResponse> {
    const outcomes = await Promise.all(
      event.Records.map(async (record) => {
        try {
          return { record, ok: await deliverRecord(record) };
        } catch (error) {
          deps.log.error('delivery failed unexpectedly; the message will be retried', {
            messageId: record.messageId,
            error: error instanceof Error ? error.name : typeof error,
            message: error instanceof Error ? error.message : undefined,
          });
          await retryLater(record);
          return { record, ok: false };
        }
      }),
    );
    return {
      batchItemFailures: outcomes.filter((o) => !o.ok).map((o) => ({ itemIdentifier: o.record.messageId })),
    };
  };
}

/** The queue URL of the record's queue: same account and region as its dead-letter queue. */
function queueUrlOf(queueArn: string, target: DeliveryTarget): string {
  const queueName = queueArn.split(':').pop() ?? '';
  const dlq = new URL(target.deadLetterQueueUrl);
  const path = dlq.pathname.split('/');
  path[path.length - 1] = queueName;
  dlq.pathname = path.join('/');
  return dlq.toString();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
