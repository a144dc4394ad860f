import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { webhookResourceNames } from '#shared/resource-names.ts';
import type { SubscriberState } from '#shared/webhooks/subscriber-state.ts';

export interface RedriveResult {
  moved: number;
  method: 'message-move-task' | 'receive-send-delete';
  /** The subscriber's state before the redrive enabled it (disabled after a 410 Gone, or not). */
  previousState: SubscriberState;
}

/** Where the subscriber's disabled flag lives (`SubscriberStateStore` on the stage's table). */
export interface SubscriberSwitch {
  enable(name: string): Promise<SubscriberState>;
}

async function queueOf(sqs: SQSClient, name: string) {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`No queue named ${name}.`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages'] }),
  );
  return {
    url: QueueUrl,
    arn: Attributes?.QueueArn ?? '',
    depth: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
  };
}

/**
 * Moves a subscriber's dead-lettered deliveries back to its queue: its delivery DLQ with an SQS
 * message move task (progress reported until it completes), and the events its rule could not put
 * on the queue (the rule target's DLQ, not an SQS redrive source) by receive, send, delete. Against
 * the local emulator, which has no move tasks, both go by receive, send, delete.
 *
 * The subscriber is enabled first (a 410 Gone disabled it, and the deliverer sends a disabled
 * subscriber's deliveries back to the dead-letter queue): a redrive is the operator saying the
 * receiver is back. If enabling fails nothing is moved.
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  options: {
    stage: string;
    subscriber: string;
    subscriberState: SubscriberSwitch;
    onProgress?: (moved: number, total: number) => void;
    pollMs?: number;
    /** Default: move tasks on AWS; receive-send-delete on a custom endpoint (the local emulator has no move tasks). */
    method?: RedriveResult['method'];
  },
): Promise<RedriveResult> {
  const names = webhookResourceNames(options.stage, options.subscriber);
  const [deadLetters, ruleDeadLetters, queue] = await Promise.all([
    queueOf(sqs, names.deadLetterQueue),
    queueOf(sqs, names.ruleDeadLetterQueue).catch(() => undefined),
    queueOf(sqs, names.queue),
  ]);
  const previousState = await options.subscriberState.enable(options.subscriber);
  const total = deadLetters.depth + (ruleDeadLetters?.depth ?? 0);
  options.onProgress?.(0, total);
  let moved = 0;
  const report = (count: number) => options.onProgress?.(moved + count, total);
  if (ruleDeadLetters) moved += await moveByHand(sqs, ruleDeadLetters.url, queue.url, report);

  const method =
    options.method ?? (process.env.AWS_ENDPOINT_URL ? 'receive-send-delete' : 'message-move-task');
  if (method === 'receive-send-delete') {
    const byHand = await moveByHand(sqs, deadLetters.url, queue.url, report);
    return { moved: moved + byHand, method, previousState };
  }
  await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: deadLetters.arn, DestinationArn: queue.arn }));
  for (;;) {
    const { Results = [] } = await sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: deadLetters.arn, MaxResults: 1 }),
    );
    const task = Results[0];
    const taskMoved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    report(taskMoved);
    if (task?.Status === 'COMPLETED') return { moved: moved + taskMoved, method, previousState };
    if (task?.Status === 'FAILED' || task?.Status === 'CANCELLED') {
      throw new Error(
        `The move task ${task.Status.toLowerCase()}: ${task.FailureReason ?? 'no reason given'} (${moved + taskMoved} moved).`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2_000));
  }
}

async function moveByHand(
  sqs: SQSClient,
  from: string,
  to: string,
  onProgress?: (moved: number) => void,
): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: from,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return moved;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: to,
        Entries: Messages.map((message, index) => ({ Id: String(index), MessageBody: message.Body ?? '' })),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((entry) => entry.Id));
    const done = Messages.filter((_, index) => ok.has(String(index)));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: from,
          Entries: done.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle ?? '',
          })),
        }),
      );
    }
    moved += done.length;
    onProgress?.(moved);
    if (done.length < Messages.length)
      throw new Error(`Some messages could not be sent back (${moved} moved so far).`);
  }
}
