import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Clock } from '#shared/clock.ts';
import type { JsonSecret } from '#shared/credentials/json-secret.ts';
import type { LinkEventDetail } from '#shared/link/link-event.ts';
import type { EmfWriter } from '#shared/observability/emf.ts';
import type { Log } from '#shared/observability/log.ts';
import { METRICS } from '#shared/observability/metric-names.ts';
import {
  type DeliveryNetwork,
  decide,
  postWebhook,
  type RetryPolicy,
  retryDelaySeconds,
} from '#shared/webhooks/delivery.ts';
import type { DeliveryTarget } from '#shared/webhooks/delivery-config.ts';
import { RETRY_WINDOW_MS, subscriberOfQueueArn } from '#shared/webhooks/routing.ts';
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
  log: Log;
  metrics: EmfWriter;
  clock: Clock;
  random?: () => number;
  /** Compresses the backoff for tests (see `RetryPolicy`); 1 in every stage. */
  backoffScale?: number;
  timeoutMs?: number;
  /** Receivers on loopback: the local stage only (`loopbackAllowedIn`). Default: refused. */
  allowLoopback?: boolean;
  resolve?: DeliveryNetwork['resolve'];
  agents?: DeliveryNetwork['agents'];
}

/**
 * The `deliver-webhooks` function as a plain function of an SQS batch: each message is one event for
 * one subscriber (its queue says which). Delivered messages leave the queue; failed ones get their
 * visibility moved to the next retry and are reported as batch item failures; messages past the
 * retry window, or for a subscriber that answered 410, go to its dead-letter queue for redrive.
 */
export function createDeliverer(deps: DelivererDeps) {
  const byName = new Map(deps.targets.map((target) => [target.name, target]));
  const policy: RetryPolicy = {
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.backoffScale === undefined ? {} : { scale: deps.backoffScale }),
  };

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
      allowLoopback: deps.allowLoopback ?? false,
      ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }),
      ...(deps.resolve ? { resolve: deps.resolve } : {}),
      ...(deps.agents ? { agents: deps.agents } : {}),
    });
    const decision = decide(result, attempt, firstSentAt, deps.clock.now(), policy);
    const logged = {
      ...context,
      status: result.status ?? null,
      error: result.error,
      ...(result.refusal ? { refusal: result.refusal } : {}),
      latencyMs: Math.round(result.latencyMs),
    };
    // One EMF line per delivery, both metrics per subscriber (the dashboard graphs them so).
    deps.metrics.publish(
      [
        { ...METRICS.webhookLatencyMs, values: [result.latencyMs] },
        {
          ...(decision.kind === 'delivered' ? METRICS.webhookDelivered : METRICS.webhookFailed),
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
      case 'retry': {
        await deps.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrlOf(record.eventSourceARN, target),
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: decision.delaySeconds,
          }),
        );
        const retrying = { ...logged, reason: decision.reason, retryInSeconds: decision.delaySeconds };
        // A refused address is a configuration an operator must fix, not a subscriber having a bad day.
        if (result.error === 'refused-address')
          deps.log.error('WEBHOOK NOT SENT: the subscriber URL is refused; will retry', retrying);
        else deps.log.warn('webhook failed; will retry', retrying);
        return false;
      }
    }
  }

  /**
   * After an unexpected failure (a secret or the table unreachable): past the retry window the
   * message goes to the dead-letter queue as a failed delivery would; before it, back off on the
   * delivery schedule. Returns whether the message is done with.
   */
  async function retryLater(record: SQSRecord): Promise<boolean> {
    const name = subscriberOfQueueArn(deps.stage, record.eventSourceARN);
    const target = name === undefined ? undefined : byName.get(name);
    if (!target) return false;
    const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
    const firstSentAt = Number(record.attributes.SentTimestamp) || deps.clock.now();
    const now = deps.clock.now();
    if (now - firstSentAt >= RETRY_WINDOW_MS) {
      const moved = await toDeadLetters(
        target,
        record,
        'retried for 24 hours; last: unexpected failure',
      ).then(
        () => true,
        () => false,
      );
      if (moved) {
        deps.log.error('webhook gave up after the retry window: moved to the dead-letter queue', {
          subscriber: target.name,
          messageId: record.messageId,
          attempt,
          reason: 'unexpected failure',
        });
        return true;
      }
    }
    await deps.sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrlOf(record.eventSourceARN, target),
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: retryDelaySeconds(attempt, now - firstSentAt, policy),
        }),
      )
      .catch(() => {
        // The queue's own visibility timeout brings the message back anyway.
      });
    return false;
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
          return { record, ok: await retryLater(record) };
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
