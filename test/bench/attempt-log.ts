/**
 * The attempt log's cost per delivery attempt (issue 16): AWS calls, and the latency it adds to the
 * deliverer. The real delivery use case (`createDeliverer`) posts real signed webhooks to a receiver
 * on loopback; its attempt log is the real `DeliveryLog` on a deliveries table on the emulator, its
 * DynamoDB client counted by an SDK middleware (`countCalls`). The same deliveries are made again
 * with a recorder that writes nothing, alternating one by one, and the medians compared: the
 * difference is what the log adds. The queue and the subscriber's flag are in memory (every delivery
 * is accepted, so the queue is never called), so the only AWS calls counted are the log's.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDeliveriesTable, localClients } from '#infra/local/aws-resources.ts';
import { systemClock } from '#shared/clock.ts';
import { STATUS_CHANGED } from '#shared/link/link-event.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { silentLog } from '#shared/observability/log.ts';
import { DeliveryLog } from '#shared/store/delivery-log.ts';
import { type AttemptRecorder, createDeliverer } from '#shared/webhooks/deliverer.ts';
import type { DeliveryTarget } from '#shared/webhooks/delivery-config.ts';
import type { DeliveryQueue, QueuedDelivery } from '#shared/webhooks/delivery-queue.ts';
import { generateWebhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { countCalls } from '#test/support/sdk-call-counter.ts';
import { benchMoto } from './bench-moto.ts';
import { onCleanup, progress } from './cleanup.ts';
import { atMost, type Benchmark, type Figure } from './figures.ts';

const ATTEMPTS = 60;
const WRITES_TARGET = atMost(1);
const WRITES_LIMIT = 'one PutItem per attempt (the issue: keep it to one write)';
const LATENCY_LIMIT = 'one PutItem round trip (the emulator here; single-digit ms in a region)';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A queue port that is never needed (every delivery is accepted) and says so if it is. */
const unusedQueue: DeliveryQueue = {
  retryIn: async () => {
    throw new Error('the bench receiver accepts every delivery: no retry expected');
  },
  deadLetter: async () => {
    throw new Error('no dead letter expected');
  },
  send: async () => {},
  startRedrive: async () => 'empty',
  deadLetterCount: async () => 0,
};

async function attemptLogFigures(): Promise<Figure[]> {
  await benchMoto();
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  receiver.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const closeReceiver = onCleanup(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });
  try {
    const tableName = `bench-deliveries-${randomUUID().slice(0, 8)}`;
    await createDeliveriesTable(localClients(), tableName);
    const dynamodb = new DynamoDBClient({});
    const counts = countCalls(dynamodb);
    const log = new DeliveryLog(tableName, { client: DynamoDBDocumentClient.from(dynamodb) });
    const none: AttemptRecorder = { record: async () => {} };

    const target: DeliveryTarget = {
      name: 'bench',
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      secretName: 'bench/unused',
      queueUrl: 'http://unused/queue',
      queueArn: 'arn:aws:sqs:ap-south-1:000000000000:bench',
      deadLetterQueueUrl: 'http://unused/dlq',
      deadLetterQueueArn: 'arn:aws:sqs:ap-south-1:000000000000:bench-dlq',
    };
    const secret = { current: generateWebhookSecret() };
    const deliverer = (attempts: AttemptRecorder) =>
      createDeliverer({
        targets: [target],
        queue: unusedQueue,
        state: { get: async () => ({ disabled: false }), set: async () => {} },
        attempts,
        secretFor: () => ({ get: async () => secret }),
        log: silentLog,
        metrics: createEmfWriter('deliver-webhooks', 'bench', { env: {}, write: () => {} }),
        clock: systemClock,
        allowLoopback: true,
      });
    const logged = deliverer(log);
    const unlogged = deliverer(none);
    const linkId = randomUUID().replace(/-/g, '').slice(0, 24);
    const message = (sequence: number): QueuedDelivery => ({
      messageId: randomUUID(),
      receiptHandle: 'unused',
      receiveCount: 1,
      firstSentAt: Date.now(),
      body: JSON.stringify({
        'detail-type': STATUS_CHANGED,
        detail: {
          eventId: randomUUID(),
          linkId,
          sequence,
          status: 'CLAIMED',
          previousStatus: 'PROCESSING',
          observedAt: new Date().toISOString(),
        },
      }),
    });
    const timed = async (deliver: typeof logged, sequence: number) => {
      const began = performance.now();
      if (!(await deliver.deliver(target, message(sequence)))) throw new Error('a delivery was not done');
      return performance.now() - began;
    };

    // Warm both (connections, the emulator's first write), then alternate so noise falls on both alike.
    await timed(logged, 0);
    await timed(unlogged, 0);
    counts.clear();
    progress(`attempt log: ${ATTEMPTS} deliveries with the log and ${ATTEMPTS} without, alternating`);
    const withLog: number[] = [];
    const withoutLog: number[] = [];
    for (let sequence = 1; sequence <= ATTEMPTS; sequence++) {
      withLog.push(await timed(logged, sequence));
      withoutLog.push(await timed(unlogged, sequence));
    }
    const calls = [...counts.values()].reduce((sum, count) => sum + count, 0);
    const byCommand = [...counts].map(([name, count]) => `${name} ${count}`).join(', ');
    const recorded = (await log.ofLink(linkId)).filter((record) => record.attempt).length;
    if (recorded < ATTEMPTS) throw new Error(`the log holds ${recorded} of ${ATTEMPTS} attempts`);
    const added = median(withLog) - median(withoutLog);
    return [
      {
        key: 'attemptLogWritesPerAttempt',
        value: calls / ATTEMPTS,
        target: WRITES_TARGET,
        limit: WRITES_LIMIT,
        note: `${ATTEMPTS} attempts: ${byCommand}`,
      },
      {
        key: 'attemptLogAddedLatencyMs',
        value: Math.max(0, added),
        unit: 'ms',
        limit: LATENCY_LIMIT,
        note: `median attempt ${median(withLog).toFixed(1)} ms with the log, ${median(withoutLog).toFixed(1)} ms without`,
      },
    ];
  } finally {
    await closeReceiver();
  }
}

export const attemptLog: Benchmark = {
  name: 'attempt log',
  figures: [
    { key: 'attemptLogWritesPerAttempt', target: WRITES_TARGET, limit: WRITES_LIMIT },
    { key: 'attemptLogAddedLatencyMs', limit: LATENCY_LIMIT, unit: 'ms' },
  ],
  run: attemptLogFigures,
};
