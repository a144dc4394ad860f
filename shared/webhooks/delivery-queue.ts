import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';
import type { DeliveryTarget } from './delivery-config.ts';
import { QueueSendError } from './delivery-errors.ts';

/** One delivery as its subscriber's queue holds it. */
export interface QueuedDelivery {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** 1 on the first attempt of this message. */
  receiveCount: number;
  /** Epoch ms the message was first put on the queue: the retry window counts from it. */
  firstSentAt: number;
}

/** What `startRedrive` did: a move of the dead letters back to the queue started, one was running, or nothing to move. */
export type RedriveStart = 'started' | 'running' | 'empty';

/**
 * The deliverer's and the API's port to the subscriber queues: hold a delivery for a retry, move it
 * to the dead-letter queue, put events on a subscriber's queue again (resend), move its dead letters
 * back (enable), count them.
 */
export interface DeliveryQueue {
  retryIn(target: DeliveryTarget, message: QueuedDelivery, seconds: number): Promise<void>;
  deadLetter(target: DeliveryTarget, message: QueuedDelivery, reason: string): Promise<void>;
  send(target: DeliveryTarget, bodies: readonly string[]): Promise<void>;
  startRedrive(target: DeliveryTarget): Promise<RedriveStart>;
  deadLetterCount(target: DeliveryTarget): Promise<number>;
}

/** Entries of one `SendMessageBatch`, and tries of the entries SQS did not take. */
const BATCH = 10;
const SEND_TRIES = 3;

/** The {@link DeliveryQueue} on SQS: each subscriber's own queue and dead-letter queue, by URL and ARN. */
export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(private readonly sqs: SQSClient = new SQSClient(AWS_CLIENT_CONFIG)) {}

  async retryIn(target: DeliveryTarget, message: QueuedDelivery, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: target.queueUrl,
        ReceiptHandle: message.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  async deadLetter(target: DeliveryTarget, message: QueuedDelivery, reason: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: target.deadLetterQueueUrl,
        MessageBody: message.body,
        MessageAttributes: {
          subscriber: { DataType: 'String', StringValue: target.name },
          reason: { DataType: 'String', StringValue: reason.slice(0, 256) },
          attempts: { DataType: 'Number', StringValue: String(message.receiveCount) },
        },
      }),
    );
  }

  async send(target: DeliveryTarget, bodies: readonly string[]): Promise<void> {
    let failed = 0;
    for (let start = 0; start < bodies.length; start += BATCH) {
      let pending = bodies
        .slice(start, start + BATCH)
        .map((body, index) => ({ Id: String(index), MessageBody: body }));
      for (let attempt = 1; pending.length > 0 && attempt <= SEND_TRIES; attempt++) {
        const { Failed = [] } = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: target.queueUrl, Entries: pending }),
        );
        const refused = new Set(Failed.filter((entry) => !entry.SenderFault).map((entry) => entry.Id));
        if (Failed.some((entry) => entry.SenderFault)) {
          failed += Failed.filter((entry) => entry.SenderFault).length;
        }
        pending = pending.filter((entry) => refused.has(entry.Id));
      }
      failed += pending.length;
    }
    if (failed > 0) throw new QueueSendError(target.name, failed);
  }

  async startRedrive(target: DeliveryTarget): Promise<RedriveStart> {
    const { Results = [] } = await this.sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: target.deadLetterQueueArn, MaxResults: 1 }),
    );
    // One move task per source queue at a time: a running one will move these too.
    if (Results[0]?.Status === 'RUNNING') return 'running';
    if ((await this.deadLetterCount(target)) === 0) return 'empty';
    await this.sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: target.deadLetterQueueArn,
        DestinationArn: target.queueArn,
      }),
    );
    return 'started';
  }

  async deadLetterCount(target: DeliveryTarget): Promise<number> {
    const { Attributes } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: target.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }
}
