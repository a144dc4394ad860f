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
import { webhookResourceNames } from '#shared/webhooks/routing.ts';

export interface RedriveResult {
  moved: number;
  method: 'message-move-task' | 'receive-send-delete';
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
 * Moves a subscriber's dead-lettered deliveries back to its queue with an SQS message move task,
 * reporting progress until it completes. Against the local emulator, which has no move tasks, it
 * moves them itself: receive, send, delete, ten at a time.
 */
export async function redriveDeadLetters(
  sqs: SQSClient,
  options: {
    stage: string;
    subscriber: string;
    onProgress?: (moved: number, total: number) => void;
    pollMs?: number;
    /** Default: move tasks on AWS; receive-send-delete on a custom endpoint (the local emulator has no move tasks). */
    method?: RedriveResult['method'];
  },
): Promise<RedriveResult> {
  const names = webhookResourceNames(options.stage, options.subscriber);
  const [deadLetters, queue] = await Promise.all([
    queueOf(sqs, names.deadLetterQueue),
    queueOf(sqs, names.queue),
  ]);
  const total = deadLetters.depth;
  options.onProgress?.(0, total);
  const method =
    options.method ?? (process.env.AWS_ENDPOINT_URL ? 'receive-send-delete' : 'message-move-task');
  if (method === 'receive-send-delete') {
    return { moved: await moveByHand(sqs, deadLetters.url, queue.url, total, options.onProgress), method };
  }
  await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: deadLetters.arn, DestinationArn: queue.arn }));
  for (;;) {
    const { Results = [] } = await sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: deadLetters.arn, MaxResults: 1 }),
    );
    const task = Results[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    options.onProgress?.(moved, task?.ApproximateNumberOfMessagesToMove ?? total);
    if (task?.Status === 'COMPLETED') return { moved, method: 'message-move-task' };
    if (task?.Status === 'FAILED' || task?.Status === 'CANCELLED') {
      throw new Error(
        `The move task ${task.Status.toLowerCase()}: ${task.FailureReason ?? 'no reason given'} (${moved} moved).`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2_000));
  }
}

async function moveByHand(
  sqs: SQSClient,
  from: string,
  to: string,
  total: number,
  onProgress?: (moved: number, total: number) => void,
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
    onProgress?.(moved, Math.max(total, moved));
    if (done.length < Messages.length)
      throw new Error(`Some messages could not be sent back (${moved} moved so far).`);
  }
}
