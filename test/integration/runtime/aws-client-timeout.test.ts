import { createServer, type Server, type Socket } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientConfig } from '#shared/aws/client-config.ts';

// A service that accepts the connection and never answers: a hung DynamoDB partition, a half-open
// connection through a NAT. The functions' clients must fail such a call within their
// `requestTimeout`, so a Lambda answers (a 503, a failed check left due) instead of hanging until
// it is killed. One attempt here (`maxAttempts: 1`) to keep the test short; the functions keep the
// SDK's retries, so a call that keeps hanging fails after `maxAttempts` timeouts.
// The deployed configuration: the stacks do not set `AWS_CALL_TIMEOUT_MS` (the integration tests'
// own environment raises it for the emulator).
const DEPLOYED = awsClientConfig({});
const REQUEST_TIMEOUT_MS = DEPLOYED.requestHandler.requestTimeout;
/** How long past the timeout a call may take to fail: the socket's teardown, a loaded machine. */
const SLACK_MS = 3_000;

let server: Server;
let endpoint: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // Reads the request and never writes a byte back.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  endpoint = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The call's outcome, or "still pending" once the timeout and the slack have passed. */
async function outcome(call: Promise<unknown>): Promise<{ error: unknown; ms: number } | 'still pending'> {
  const startedAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'still pending'>((resolve) => {
    timer = setTimeout(() => resolve('still pending'), REQUEST_TIMEOUT_MS + SLACK_MS);
  });
  try {
    return await Promise.race([
      call.then(
        () => ({ error: new Error('the call succeeded'), ms: performance.now() - startedAt }),
        (error: unknown) => ({ error, ms: performance.now() - startedAt }),
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the AWS clients of the functions (awsClientConfig) against a service that never answers', () => {
  const config = () => ({
    ...DEPLOYED,
    maxAttempts: 1,
    endpoint,
    region: 'ap-south-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });

  const calls: Record<string, () => Promise<unknown>> = {
    DynamoDB: () =>
      new DynamoDBClient(config()).send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } })),
    EventBridge: () =>
      new EventBridgeClient(config()).send(
        new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] }),
      ),
    SQS: () =>
      new SQSClient(config()).send(
        new SendMessageCommand({ QueueUrl: `${endpoint}/1/q`, MessageBody: '{}' }),
      ),
    'Secrets Manager': () =>
      new SecretsManagerClient(config()).send(new GetSecretValueCommand({ SecretId: 's' })),
  };

  it.concurrent.each(Object.keys(calls))(
    '%s: the call fails with a TimeoutError within the request timeout',
    async (service) => {
      const result = await outcome(calls[service]!());
      expect(
        result,
        `a ${service} call was still pending ${REQUEST_TIMEOUT_MS + SLACK_MS} ms after it began`,
      ).not.toBe('still pending');
      const { error, ms } = result as { error: Error; ms: number };
      expect(error.name).toBe('TimeoutError');
      expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    },
    REQUEST_TIMEOUT_MS + SLACK_MS + 5_000,
  );
});
