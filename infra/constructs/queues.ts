import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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
