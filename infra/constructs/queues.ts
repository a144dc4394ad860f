import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';

/** SQS caps a queue name at 80 characters. */
const MAX_QUEUE_NAME = 80;

/** A dead-letter queue and what it holds, for the alarms and the dashboard. */
export interface DeadLetterQueue {
  /** Says in a few words what lands there (`webhook merchant-ledger deliveries`). */
  readonly label: string;
  readonly queue: Queue;
  /** What the operator does with its messages, for the alarm (default: inspect, fix, then redrive). */
  readonly remedy?: string;
}

/**
 * Acknowledges, on a queue that is itself the end of a failure path (a DLQ or a failure
 * destination), the checks asking it for a dead-letter queue of its own.
 */
export function acknowledgeEndOfFailurePath(queue: Queue, what: string): void {
  const reason = `This queue is itself ${what} (watched by an alarm); it needs no dead-letter queue of its own.`;
  Validations.of(queue.node.defaultChild!).acknowledge(
    { id: 'AwsSolutions-SQS3', reason },
    { id: 'Serverless-SQSRedrivePolicy', reason },
  );
}

/**
 * Every queue of the stack: encrypted (SQS-managed keys, which EventBridge and Scheduler can write to
 * without a key policy), TLS only, kept 14 days, and retained with the stage's data.
 */
export function secureQueue(
  scope: Construct,
  id: string,
  config: StageConfig,
  props: Omit<QueueProps, 'encryption' | 'enforceSSL'> & { queueName: string },
): Queue {
  if (props.queueName.length > MAX_QUEUE_NAME) {
    throw new Error(`Queue name "${props.queueName}" is longer than ${MAX_QUEUE_NAME} characters.`);
  }
  return new Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    removalPolicy: config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    ...props,
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
}
