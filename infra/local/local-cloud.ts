import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { LOCAL_TABLE_NAME, stageConfig } from '#infra/config/stage-config.ts';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { SAMPLE_CREDENTIALS, type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import { openApiDocument } from '#infra/schemas/published-schemas.ts';
import { busName } from '#shared/events/bus.ts';
import { problem } from '#shared/http/problem.ts';
import { EVENT_SOURCE } from '#shared/link/link-event.ts';
import type { DeliveryTarget } from '#shared/webhooks/delivery-config.ts';
import { webhookResourceNames } from '#shared/webhooks/routing.ts';
import { subscriberUrlProblems } from '#shared/webhooks/subscriber.ts';
import { generateWebhookSecret } from '#shared/webhooks/webhook-secret.ts';
import {
  createBus,
  createQueue,
  createRuleToQueue,
  createSubscriberRouting,
  createTable,
  localClients,
  putSecret,
} from './aws-resources.ts';
import { httpApiEventOf, splitUrl, writeApiResult } from './http-api-event.ts';
import type { LocalSettings } from './local-settings.ts';
import { type MotoServer, startMoto } from './moto.ts';
import { pollOnce } from './sqs-event-source.ts';

const STAGE = 'local';
const TABLE_NAME = LOCAL_TABLE_NAME;
const SINK = 'local-sink';
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface LocalCloud {
  apiUrl: string;
  sandboxUrl: string;
  webhookSecret: string;
  /** pids of the processes this started (the emulator), for "no orphans" checks. */
  childPids: number[];
  stop(): Promise<void>;
}

type Print = (line: string) => void;

/**
 * Starts the whole system on this machine: the emulator (unless given), the sandbox (unless a real
 * InstantPay is given), the resources of the `local` stage from the shared definitions, and the
 * three real Lambda handlers driven as AWS would drive them.
 */
export async function startLocalCloud(
  settings: LocalSettings,
  print: Print = console.log,
): Promise<LocalCloud> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    return await start(settings, print, stops, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function start(
  settings: LocalSettings,
  print: Print,
  stops: Array<() => Promise<void>>,
  stopAll: () => Promise<void>,
): Promise<LocalCloud> {
  const config = stageConfig(STAGE);
  const childPids: number[] = [];

  // 1. The AWS emulator.
  let moto: MotoServer | undefined;
  if (!settings.AWS_ENDPOINT_URL) {
    moto = await startMoto();
    childPids.push(moto.pid);
    stops.push(() => moto!.stop());
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: settings.AWS_ENDPOINT_URL ?? moto!.endpoint,
    AWS_REGION: process.env.AWS_REGION ?? 'ap-south-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });

  // 2. The InstantPay sandbox, unless a real InstantPay is configured.
  let sandbox: Sandbox | undefined;
  if (!settings.INSTANTPAY_BASE_URL) {
    sandbox = await startSandbox({
      port: settings.SANDBOX_PORT,
      ...(settings.SANDBOX_CLOCK === 'manual' ? { clock: new ManualClock() } : {}),
    });
    stops.push(() => sandbox!.close());
  }
  const sandboxUrl = sandbox?.url ?? settings.INSTANTPAY_BASE_URL!;

  // 3. The API server first, so the sink's URL (on the API port) is known for the subscribers; until
  // every part is ready it answers 503 (a request the port took must never wait for a handler).
  let handle: RequestListener = answerStartingUp;
  const server = createServer((request, response) => handle(request, response));
  // Longer than clients keep idle connections (undici: 4 s), so a reused connection is never closed under them.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.PORT, '127.0.0.1', resolve);
  });
  stops.push(() => closeServer(server));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  print(`starting: the API at ${apiUrl} answers 503 until every part is ready`);

  // 4. Resources of the local stage, from the shared definitions.
  const clients = localClients();
  await ignoreExisting(createTable(clients, TABLE_NAME));
  const bus = busName(STAGE);
  await ignoreExisting(createBus(clients, bus));
  const webhookSecret = settings.WEBHOOK_SECRET ?? generateWebhookSecret();
  const subscribers = [
    { name: SINK, url: `${apiUrl}/local/webhooks` },
    ...settings.WEBHOOK_URLS.map((url, index) => ({ name: `webhook-${index + 1}`, url })),
  ];
  for (const subscriber of subscribers) {
    const problems = subscriberUrlProblems(subscriber.url, { allowLoopback: true });
    if (problems.length > 0) throw new Error(`WEBHOOK_URLS: ${subscriber.url} ${problems.join(', ')}`);
  }
  const targets: DeliveryTarget[] = [];
  const queues: Array<{ url: string; arn: string }> = [];
  for (const subscriber of subscribers) {
    const routing = await createSubscriberRouting(clients, {
      stage: STAGE,
      busName: bus,
      subscriber: { name: subscriber.name },
    });
    const secretName = `payout-link-tracker/local/webhooks/${subscriber.name}`;
    await putSecret(clients, secretName, { current: webhookSecret });
    targets.push({ ...subscriber, secretName, deadLetterQueueUrl: routing.deadLetterQueue.url });
    queues.push(routing.queue);
  }
  // The console's own view of the bus: every event, printed as it happens.
  const consoleQueue = await createQueue(clients, 'payout-link-tracker-local-console');
  await createRuleToQueue(clients, {
    busName: bus,
    ruleName: 'payout-link-tracker-local-console',
    pattern: { source: [EVENT_SOURCE] },
    queueArn: consoleQueue.arn,
  });
  await putSecret(
    clients,
    config.instantPaySecretName,
    settings.INSTANTPAY_BASE_URL
      ? {
          clientId: settings.INSTANTPAY_CLIENT_ID,
          clientSecret: settings.INSTANTPAY_CLIENT_SECRET,
          endpointIp: settings.INSTANTPAY_ENDPOINT_IP,
          baseUrl: settings.INSTANTPAY_BASE_URL,
        }
      : {
          clientId: SAMPLE_CREDENTIALS.clientId,
          clientSecret: SAMPLE_CREDENTIALS.clientSecret,
          endpointIp: '127.0.0.1',
          baseUrl: sandboxUrl,
        },
  );

  // 5. The real handlers, configured through their environment as in Lambda.
  Object.assign(process.env, {
    STAGE,
    TABLE_NAME,
    EVENT_BUS_NAME: bus,
    INSTANTPAY_SECRET_NAME: config.instantPaySecretName,
    SCHEDULE_SCALE: settings.SCHEDULE_SCALE,
    MASK_PERSONAL_DATA: settings.MASK_PERSONAL_DATA,
    RECHECK_CONCURRENCY: settings.RECHECK_CONCURRENCY,
    UPSTREAM_MAX_RPS: settings.UPSTREAM_MAX_RPS,
    RECHECK_PARALLEL_RUNS: '1',
    WEBHOOK_SUBSCRIBERS: JSON.stringify(targets),
    POWERTOOLS_LOG_LEVEL: settings.LOG_LEVEL,
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  delete process.env.INSTANTPAY_BASE_URL;
  const trackLink = (await import('#functions/track-link/handler.ts')).handler as unknown as (
    event: APIGatewayProxyEventV2,
    context: Context,
  ) => Promise<APIGatewayProxyStructuredResultV2>;
  const recheck = (await import('#functions/recheck-pending/handler.ts')).handler as unknown as (
    event: unknown,
    context: Context,
  ) => Promise<void>;
  const deliver = (await import('#functions/deliver-webhooks/handler.ts')).handler as unknown as (
    event: SQSEvent,
    context: Context,
  ) => Promise<SQSBatchResponse>;

  // 6. The API and the sink.
  const sink = new Webhook(webhookSecret);
  const serveRequest: RequestListener = (request, response) => {
    void serve(request, response).catch((error: unknown) => {
      print(`api: request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/problem+json' });
      response.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Internal error',
          status: 500,
          detail: 'The local API failed.',
        }),
      );
    });
  };
  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (body === undefined) {
      response.writeHead(413, { 'content-type': 'application/problem+json' });
      response.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Payload too large',
          status: 413,
          detail: 'At most 10 MB.',
        }),
      );
      return;
    }
    const { rawPath } = splitUrl(request.url);
    if (rawPath === '/local/webhooks' && request.method === 'POST') {
      const text = body.toString('utf8');
      try {
        const payload = sink.verify(text, request.headers as Record<string, string>) as {
          type: string;
          data: { linkId: string; sequence: number };
        };
        print(
          `webhook  ${SINK} received ${payload.type} for ${payload.data.linkId} #${payload.data.sequence} (id ${request.headers['webhook-id']}, signature verified)`,
        );
        response.writeHead(204).end();
      } catch {
        print(
          `webhook  ${SINK} received a delivery whose signature does NOT verify (id ${request.headers['webhook-id']})`,
        );
        response.writeHead(400).end();
      }
      return;
    }
    if (rawPath === '/openapi.json' && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(openApiDocument(), null, 2));
      return;
    }
    const result = await trackLink(httpApiEventOf(request, body), lambdaContext('track-link', 29_000));
    writeApiResult(response, result);
  }

  // 7. The schedule, the queues and the console, each a loop that stops cleanly.
  let running = true;
  const loops: Array<Promise<void>> = [];
  const loop = (name: string, everyMs: number, body: () => Promise<unknown>) => {
    loops.push(
      (async () => {
        while (running) {
          const started = Date.now();
          try {
            await body();
          } catch (error) {
            print(`${name}: ${error instanceof Error ? error.message : String(error)}`);
          }
          await sleepWhileRunning(Math.max(0, everyMs - (Date.now() - started)));
        }
      })(),
    );
  };
  const sleepWhileRunning = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      stopWaiters.add(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  const stopWaiters = new Set<() => void>();
  stops.push(async () => {
    running = false;
    for (const wake of stopWaiters) wake();
    await Promise.all(loops);
  });

  loop('recheck-pending', settings.RECHECK_INTERVAL_SECONDS * 1000, () =>
    recheck({ shardGroup: 0 }, lambdaContext('recheck-pending', 60_000)),
  );
  loop('deliver-webhooks', 200, async () => {
    for (const [index, queue] of queues.entries()) {
      await pollOnce(clients.sqs, queue, async (event) => {
        const result = await deliver(event, lambdaContext('deliver-webhooks', 30_000));
        const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
        for (const record of event.Records) {
          const detail = safeDetail(record.body);
          const outcome = failed.has(record.messageId) ? 'failed, will retry' : 'done';
          print(
            `delivery ${targets[index]?.name} ${detail.eventId ?? record.messageId} (${detail.linkId ?? '?'} #${detail.sequence ?? '?'}): ${outcome}`,
          );
        }
        return result;
      });
    }
  });
  loop('console', 200, () =>
    pollOnce(clients.sqs, consoleQueue, async (event) => {
      for (const record of event.Records) {
        const detail = safeDetail(record.body);
        const change =
          detail.detailType === 'Payout Link Activity Added'
            ? `activity added (${detail.status})`
            : `${detail.previousStatus ?? '(new)'} -> ${detail.status}`;
        print(`event    ${detail.linkId} #${detail.sequence} ${change} [${detail.trigger}]`);
      }
      return { batchItemFailures: [] };
    }),
  );

  handle = serveRequest;
  return {
    apiUrl,
    sandboxUrl,
    webhookSecret,
    childPids,
    stop: stopAll,
  };
}

/** What the API answers before every part of the local cloud is ready. */
function answerStartingUp(request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  response.writeHead(503, {
    'content-type': 'application/problem+json',
    'retry-after': '1',
    connection: 'close',
  });
  response.end(
    JSON.stringify(
      problem(503, 'starting-up', 'Starting up', 'npm start is still starting; try again in a second.'),
    ),
  );
}

function lambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName: `payout-link-tracker-local-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function safeDetail(body: string): Record<string, string | number | undefined> {
  try {
    const event = JSON.parse(body) as { 'detail-type'?: string; detail?: Record<string, string | number> };
    return { ...event.detail, detailType: event['detail-type'] };
  } catch {
    return {};
  }
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function ignoreExisting(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!/ResourceInUse|AlreadyExists|ResourceExists/.test((error as Error).name)) throw error;
  }
}

export const LOCAL_NAMES = { stage: STAGE, table: TABLE_NAME, sink: SINK, resources: webhookResourceNames };
