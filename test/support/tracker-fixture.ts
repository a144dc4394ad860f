import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createApi } from '#functions/track-link/app.ts';
import {
  createBus,
  createQueue,
  createRuleToQueue,
  createTable,
  localClients,
  putSecret,
} from '#infra/local/aws-resources.ts';
import { httpApiEvent } from '#infra/local/http-api-event.ts';
import { SAMPLE_CREDENTIALS, type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import type { Clock } from '#shared/clock.ts';
import { loadRuntimeConfig, type RuntimeConfig } from '#shared/config/runtime-config.ts';
import type { EventPublisher } from '#shared/events/event-publisher.ts';
import { EVENT_SOURCE } from '#shared/link/link-event.ts';
import { LinkQueries } from '#shared/store/link-queries.ts';
import { LinkStore } from '#shared/store/link-store.ts';
import { SweepQueries } from '#shared/store/sweep-queries.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { LinkRegistrations } from '#shared/tracker/link-registrations.ts';
import { LinkRequests } from '#shared/tracker/link-requests.ts';
import type { LinkTracker } from '#shared/tracker/link-tracker.ts';
import { captureLog } from './capture-log.ts';

export interface BusEvent {
  id: string;
  'detail-type': string;
  source: string;
  detail: Record<string, unknown> & { eventId: string; linkId: string; sequence: number; status: string };
}

/** A response of the API as tests read it: `body` is parsed JSON, read by the contract's field names. */
// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies by the contract's field names.
export type ApiResponse = { status: number; headers: Record<string, string>; body: any };

export interface FixtureOptions {
  clock?: Clock;
  env?: Record<string, string>;
  trackerOverrides?: Omit<NonNullable<Parameters<typeof createTracker>[1]>, 'publisher'> & {
    /** Built once the fixture's names are known. */
    publisher?: (names: { table: string; bus: string; secret: string }) => EventPublisher;
  };
  /** Reuse a sandbox (else one is started and closed with the fixture). */
  sandbox?: Sandbox;
}

/**
 * A fresh, small world per test file: a table, a bus with a rule delivering every tracker event to
 * an SQS queue, an InstantPay secret pointing at a sandbox on loopback, and the real core and API.
 */
export async function trackerFixture(options: FixtureOptions = {}) {
  const clients = localClients();
  const id = randomUUID().slice(0, 8);
  const sandbox = options.sandbox ?? (await startSandbox(options.clock ? { clock: options.clock } : {}));
  const names = {
    table: `links-${id}`,
    bus: `payout-link-tracker-test-${id}`,
    secret: `test/instantpay/${id}`,
  };
  await createTable(clients, names.table);
  await createBus(clients, names.bus);
  const queue = await createQueue(clients, `events-${id}`);
  await createRuleToQueue(clients, {
    busName: names.bus,
    ruleName: `all-${id}`,
    pattern: { source: [EVENT_SOURCE] },
    queueArn: queue.arn,
  });
  await putSecret(clients, names.secret, {
    clientId: SAMPLE_CREDENTIALS.clientId,
    clientSecret: SAMPLE_CREDENTIALS.clientSecret,
    endpointIp: '127.0.0.1',
    baseUrl: sandbox.url,
  });
  const config: RuntimeConfig = loadRuntimeConfig({
    STAGE: 'test',
    TABLE_NAME: names.table,
    EVENT_BUS_NAME: names.bus,
    INSTANTPAY_SECRET_NAME: names.secret,
    UPSTREAM_TIMEOUT_MS: '1000',
    ...options.env,
  });
  const log = captureLog();
  const { publisher, store: givenStore, ...overrides } = options.trackerOverrides ?? {};
  // The tracker's own store, also for the sweep and for tests that read the table through it.
  const store = givenStore ?? new LinkStore({ tableName: names.table });
  const tracker: LinkTracker = createTracker(config, {
    log: log.logger,
    random: () => 0.5,
    ...(options.clock ? { clock: options.clock } : {}),
    ...overrides,
    store,
    ...(publisher ? { publisher: publisher(names) } : {}),
  });
  // The API's reads and the sweep's, over the same table.
  const queries = new LinkQueries({ tableName: names.table });
  const sweep = new SweepQueries({ tableName: names.table });
  const requests = new LinkRequests({ tracker, store, queries });
  // Discovery's registrations (the API's go through `requests`).
  const registrations = new LinkRegistrations({ tracker, store });
  const api = createApi(requests, log.logger);

  const call = apiCaller(api);

  /** Reads the queue until `count` events arrived, then once more to catch extras; deletes what it read. */
  async function receiveEvents(count: number, timeoutMs = 10_000): Promise<BusEvent[]> {
    const events: BusEvent[] = [];
    const deadline = Date.now() + timeoutMs;
    let quietPolls = 0;
    while (Date.now() < deadline && (events.length < count || quietPolls < 1)) {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) {
        if (events.length >= count) quietPolls++;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      for (const message of Messages) events.push(JSON.parse(message.Body ?? '{}') as BusEvent);
      await clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    return events;
  }

  return {
    sandbox,
    tracker,
    store,
    queries,
    sweep,
    requests,
    registrations,
    api,
    call,
    receiveEvents,
    config,
    log,
    names,
    clients,
    async close() {
      if (!options.sandbox) await sandbox.close();
    },
  };
}

/**
 * Calls an API handler the way API Gateway would (a JSON content type unless told otherwise), and
 * answers the status, the headers and the body parsed as JSON.
 */
export function apiCaller(api: ReturnType<typeof createApi>) {
  async function call(
    method: string,
    path: string,
    request: {
      query?: string;
      body?: unknown;
      rawBody?: string | Buffer;
      headers?: Record<string, string>;
    } = {},
  ): Promise<ApiResponse> {
    const body = request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
    const response = (await api(
      httpApiEvent({
        method,
        rawPath: path,
        ...(request.query ? { rawQueryString: request.query } : {}),
        headers: { 'content-type': 'application/json', ...request.headers },
        ...(body === undefined ? {} : { body }),
      }),
    )) as APIGatewayProxyStructuredResultV2;
    const headers = (response.headers ?? {}) as Record<string, string>;
    return {
      status: response.statusCode ?? 200,
      headers,
      body: response.body ? JSON.parse(response.body) : undefined,
    };
  }
  return call;
}
