import { EVENT_SOURCE } from '#shared/link/link-event.ts';
import { webhookNamePrefix, webhookResourceNames } from '#shared/resource-names.ts';
import type { Subscriber } from './subscriber.ts';

/**
 * How events reach a webhook subscriber, defined once for the CDK constructs and the local cloud:
 * a rule on the bus whose pattern holds the subscriber's filters, an SQS queue with a DLQ, and the
 * `deliver-webhooks` function on the queue.
 */
export function subscriberRulePattern(
  subscriber: Pick<Subscriber, 'statuses' | 'detailTypes'>,
): Record<string, unknown> {
  return {
    source: [EVENT_SOURCE],
    ...(subscriber.detailTypes ? { 'detail-type': [...subscriber.detailTypes] } : {}),
    ...(subscriber.statuses ? { detail: { status: [...subscriber.statuses] } } : {}),
  };
}

/**
 * Whether the subscriber's rule takes an event of this detail-type and status: the pattern above, read
 * as EventBridge reads it (each filter that is there must hold). A resend sends nothing else.
 */
export function subscriberReceives(
  subscriber: Pick<Subscriber, 'statuses' | 'detailTypes'>,
  event: { detailType: string; status: string },
): boolean {
  if (subscriber.detailTypes && !(subscriber.detailTypes as readonly string[]).includes(event.detailType))
    return false;
  return !subscriber.statuses || subscriber.statuses.includes(event.status);
}

/** EventBridge rule names are at most 64 characters: `stage` and `subscriber` together at most this. */
export const MAX_STAGE_AND_SUBSCRIBER_LENGTH = 64 - webhookResourceNames('', '').rule.length;

/** The subscriber whose queue an SQS record came from (`eventSourceARN` ends with the queue name). */
export function subscriberOfQueueArn(stage: string, queueArn: string): string | undefined {
  const queueName = queueArn.split(':').pop() ?? '';
  const prefix = webhookNamePrefix(stage);
  if (!queueName.startsWith(prefix) || queueName.endsWith('-dlq')) return undefined;
  return queueName.slice(prefix.length);
}

/** Endings of the derived queue names: a subscriber name ending so takes (or looks like) another's DLQ. */
const RESERVED_SUBSCRIBER_NAME_ENDINGS = ['-dlq', '-rule'] as const;

/**
 * Why these subscriber names cannot share a stage, by index: a name ending like a derived queue name,
 * or any queue or rule name of one subscriber that is also another's, or a queue that
 * `subscriberOfQueueArn` would not route back to its subscriber (checked on the derivation itself).
 */
export function subscriberNameProblems(
  stage: string,
  names: readonly string[],
): { index: number; message: string }[] {
  const problems: { index: number; message: string }[] = [];
  const owners = new Map<string, string>();
  names.forEach((name, index) => {
    const ending = RESERVED_SUBSCRIBER_NAME_ENDINGS.find((end) => name.endsWith(end));
    if (ending) {
      problems.push({
        index,
        message: `must not end in "${ending}": dead-letter queues are named <queue>-dlq and <queue>-rule-dlq, so ${RESERVED_SUBSCRIBER_NAME_ENDINGS.map((end) => `"${end}"`).join(' and ')} are reserved`,
      });
      return;
    }
    const derived = webhookResourceNames(stage, name);
    const arn = (queue: string) => `arn:aws:sqs:region:000000000000:${queue}`;
    if (
      subscriberOfQueueArn(stage, arn(derived.queue)) !== name ||
      subscriberOfQueueArn(stage, arn(derived.deadLetterQueue)) !== undefined ||
      subscriberOfQueueArn(stage, arn(derived.ruleDeadLetterQueue)) !== undefined
    ) {
      problems.push({ index, message: 'gives queue names that do not route back to this subscriber' });
      return;
    }
    const taken = [
      `queue ${derived.queue}`,
      `queue ${derived.deadLetterQueue}`,
      `queue ${derived.ruleDeadLetterQueue}`,
      `rule ${derived.rule}`,
    ];
    const clash = taken.find((resource) => owners.has(resource) && owners.get(resource) !== name);
    if (clash) {
      problems.push({
        index,
        message: `gives the ${clash}, which subscriber "${owners.get(clash)}" has too`,
      });
      return;
    }
    for (const resource of taken) owners.set(resource, name);
  });
  return problems;
}

/** A delivery is retried for at least this long before it goes to the dead-letter queue. */
export const RETRY_WINDOW_MS = 24 * 3600 * 1000;
/**
 * The backoff of retry `n` (1-based) is drawn between half of its base and the whole (jitter over
 * the upper half: never the near-zero waits of full jitter); SQS caps one wait at 12 hours.
 */
export const RETRY_BASE_DELAYS_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000, 43_200] as const;
export const MAX_VISIBILITY_SECONDS = 43_200;
export const DELIVERY_TIMEOUT_MS = 15_000;

/** The shortest backoff of retry `n` (1-based), whatever the jitter draws and the subscriber asks. */
export function retryFloorSeconds(attempt: number): number {
  const index = Math.min(Math.max(Math.floor(attempt), 1), RETRY_BASE_DELAYS_SECONDS.length) - 1;
  return Math.ceil((RETRY_BASE_DELAYS_SECONDS[index] ?? MAX_VISIBILITY_SECONDS) / 2);
}

export const WEBHOOK_QUEUE = {
  /**
   * The delivery function's timeout is 30 s; SQS wants at least six times that for a mapping. It is
   * also how long a receive holds a message when the function ends with no decision (a crash).
   */
  visibilityTimeoutSeconds: 180,
  /** The longest SQS keeps a message: far beyond the longest life the schedule gives one (see the infra test). */
  retentionSeconds: 14 * 24 * 3600,
  /**
   * A backstop for messages the function cannot handle; retries end by age (RETRY_WINDOW_MS). Even
   * if every receive held the message only as long as its floor or the visibility timeout, whichever
   * is shorter, 500 receives span more than the window (3 + 150 + 498 x 180 s, about 25 hours).
   */
  maxReceiveCount: 500,
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
} as const;
