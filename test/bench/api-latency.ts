/**
 * API latency (issue 8): the local API of `npm start` (`startLocalCloud`: the real `track-link`
 * handler behind a Node HTTP server, the table, bus and secrets on the emulator) with the sandbox
 * answering every track call in a fixed 50 ms, p50 and p99 of `GET /links/{id}` (an on-demand check
 * of an unchanged link: the upstream call and one conditional write) over the same requests sent
 * straight to the sandbox's track endpoint. Each of a few workers alternates one request of each
 * kind, so both see the same load and the same moments of machine noise.
 *
 * The sandbox runs in a process of its own (`sandbox-process.ts`), as InstantPay is another machine;
 * the local cloud uses it as a "real" InstantPay (`INSTANTPAY_BASE_URL`). The local cloud's
 * scheduled recheck is held off (`RECHECK_INTERVAL_SECONDS` 3600, `SCHEDULE_SCALE` 1) so its sweeps
 * do not land in the middle of the measurement; its webhook and console pollers run as in
 * `npm start`. Every DynamoDB call the API makes is timed with an SDK middleware, so the emulator's
 * share of the latency is printed beside the figure.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MiddlewareStack } from '@smithy/types';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createApi } from '#functions/track-link/app.ts';
import { httpApiEventOf, writeApiResult } from '#infra/local/http-api-event.ts';
import { type LocalCloud, startLocalCloud } from '#infra/local/local-cloud.ts';
import { LocalSettingsSchema } from '#infra/local/local-settings.ts';
import { SAMPLE_CREDENTIALS } from '#infra/sandbox/server.ts';
import { loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import type { EventPublisher } from '#shared/events/event-publisher.ts';
import { createInstantPayClient } from '#shared/instantpay/client.ts';
import type { LinkChange } from '#shared/link/link-event.ts';
import { silentLog } from '#shared/observability/log.ts';
import { sharedDocumentClient } from '#shared/store/link-store.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { LinkRequests } from '#shared/tracker/link-requests.ts';
import { benchMoto } from './bench-moto.ts';
import { onCleanup, progress } from './cleanup.ts';
import { atMost, type Benchmark, type Figure } from './figures.ts';
import { MemoryLinkStore } from './memory-link-store.ts';
import { type SandboxProcess, startSandboxProcess } from './sandbox-process.ts';

const UPSTREAM_LATENCY_MS = 50;
/** Measured requests of each kind (the issue asks for at least 1000). */
const REQUESTS = 1000;
const WARMUP_REQUESTS = 60;
/** Requests of each kind for the in-memory comparison, printed for information. */
const MEMORY_REQUESTS = 600;
/** Workers, each alternating an API request and a direct one. */
const CONCURRENCY = 4;
/** Distinct links the requests go round. */
const LINKS = 20;

const P50_TARGET = atMost(1.15);
const P99_TARGET = atMost(1.5);
const LIMIT = `the same GETs straight to the sandbox (${UPSTREAM_LATENCY_MS} ms fixed)`;

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Times every call of a client (ms), while `recording` is on. */
// biome-ignore lint/suspicious/noExplicitAny: any SDK v3 client, whatever its input and output types.
function timeCalls(client: { middlewareStack: MiddlewareStack<any, any> }) {
  const durations: number[] = [];
  const state = { recording: false, durations };
  client.middlewareStack.add(
    (next) => async (args) => {
      if (!state.recording) return next(args);
      const startedAt = performance.now();
      try {
        return await next(args);
      } finally {
        durations.push(performance.now() - startedAt);
      }
    },
    { step: 'initialize', name: 'benchTimeCalls' },
  );
  return state;
}

async function timed(url: string, init: RequestInit): Promise<number> {
  const startedAt = performance.now();
  const response = await fetch(url, init);
  const text = await response.text();
  const ms = performance.now() - startedAt;
  if (response.status !== 200)
    throw new Error(`GET ${url} answered ${response.status}: ${text.slice(0, 200)}`);
  return ms;
}

/** InstantPay's headers with the sandbox's sample credentials: a direct track call. */
export const UPSTREAM_HEADERS = {
  'X-Ipay-Auth-Code': '1',
  'X-Ipay-Client-Id': SAMPLE_CREDENTIALS.clientId,
  'X-Ipay-Client-Secret': SAMPLE_CREDENTIALS.clientSecret,
  'X-Ipay-Endpoint-Ip': '127.0.0.1',
  Accept: 'application/json',
};

/** Tracks `links` through the API (`POST /links`), so every measured GET finds an unchanged link. */
async function register(apiUrl: string, links: readonly string[]): Promise<void> {
  for (const linkId of links) {
    const response = await fetch(`${apiUrl}/links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ linkId }),
    });
    if (response.status !== 201)
      throw new Error(`POST /links answered ${response.status}: ${await response.text()}`);
  }
}

interface Latencies {
  api: number[];
  direct: number[];
  seconds: number;
}

/**
 * `pairs` GETs of each kind, `CONCURRENCY` workers each alternating one API request and one straight
 * to the sandbox (half the workers start with the API, half with the sandbox).
 */
async function measure(
  apiUrl: string,
  sandbox: SandboxProcess,
  links: readonly string[],
  pairs: number,
): Promise<Latencies> {
  const api: number[] = [];
  const direct: number[] = [];
  const viaApi = (linkId: string) => timed(`${apiUrl}/links/${linkId}`, { method: 'GET' });
  const straight = (linkId: string) =>
    timed(`${sandbox.url}/payments/payout/link/track/${linkId}`, {
      method: 'GET',
      headers: UPSTREAM_HEADERS,
    });
  let started = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (started < pairs) {
        const linkId = links[started++ % links.length] as string;
        if (worker % 2 === 0) {
          api.push(await viaApi(linkId));
          direct.push(await straight(linkId));
        } else {
          direct.push(await straight(linkId));
          api.push(await viaApi(linkId));
        }
      }
    }),
  );
  return { api, direct, seconds: (performance.now() - startedAt) / 1000 };
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

function describe(latencies: Latencies): string {
  const { api, direct } = latencies;
  return `API p50 ${ms(percentile(api, 50))} p99 ${ms(percentile(api, 99))}, direct p50 ${ms(percentile(direct, 50))} p99 ${ms(percentile(direct, 99))} (${api.length} of each in ${latencies.seconds.toFixed(1)} s)`;
}

/** The local cloud's API: the real handler, the table on the emulator. */
async function localCloudLatencies(
  sandbox: SandboxProcess,
  links: readonly string[],
): Promise<{ latencies: Latencies; dynamo: number[] }> {
  const moto = await benchMoto();
  const problems: string[] = [];
  const cloud: LocalCloud = await startLocalCloud(
    LocalSettingsSchema.parse({
      PORT: '0',
      AWS_ENDPOINT_URL: moto.endpoint,
      INSTANTPAY_BASE_URL: sandbox.url,
      INSTANTPAY_CLIENT_ID: SAMPLE_CREDENTIALS.clientId,
      INSTANTPAY_CLIENT_SECRET: SAMPLE_CREDENTIALS.clientSecret,
      INSTANTPAY_ENDPOINT_IP: '127.0.0.1',
      // No discovery: it would register the benchmark's links before the benchmark does, and add its calls.
      DISCOVERY_INTERVAL_SECONDS: '0',
      RECHECK_INTERVAL_SECONDS: '3600',
      SCHEDULE_SCALE: '1',
      LOG_LEVEL: 'SILENT',
    }),
    (line) => {
      if (/fail|error/i.test(line)) problems.push(line);
    },
  );
  const closeCloud = onCleanup(() => cloud.stop());
  try {
    await register(cloud.apiUrl, links);
    const dynamo = timeCalls(sharedDocumentClient());
    progress(`api latency: local cloud, ${WARMUP_REQUESTS} warm-up requests of each kind`);
    await measure(cloud.apiUrl, sandbox, links, WARMUP_REQUESTS);
    progress(
      `api latency: local cloud, ${REQUESTS} GET /links/{id} and ${REQUESTS} direct, ${CONCURRENCY} workers`,
    );
    dynamo.recording = true;
    const latencies = await measure(cloud.apiUrl, sandbox, links, REQUESTS);
    dynamo.recording = false;
    if (problems.length > 0) throw new Error(`the local cloud reported: ${problems.slice(0, 3).join(' | ')}`);
    progress(`api latency: local cloud: ${describe(latencies)}`);
    return { latencies, dynamo: dynamo.durations };
  } finally {
    await closeCloud();
  }
}

const acceptingPublisher = {
  async publish(changes: readonly LinkChange[]) {
    return { published: [...changes], failed: [] };
  },
} as unknown as EventPublisher;

/**
 * The same API code (`createApi` over `createTracker`, the real InstantPay client) behind the same
 * kind of HTTP adapter, with the table in memory (`MemoryLinkStore`) and a bus that accepts at once:
 * what the API costs without the emulator.
 */
async function memoryTableLatencies(sandbox: SandboxProcess, links: readonly string[]): Promise<Latencies> {
  const store = new MemoryLinkStore();
  const config = loadRuntimeConfig({
    STAGE: 'bench',
    TABLE_NAME: store.tableName,
    EVENT_BUS_NAME: 'bench',
    INSTANTPAY_SECRET_NAME: 'bench/unused',
  });
  const upstream = createInstantPayClient({
    credentials: {
      get: async () => ({ ...UPSTREAM_CREDENTIALS, baseUrl: sandbox.url }),
    },
    timeoutMs: config.upstreamTimeoutMs,
  });
  const tracker = createTracker(config, { store, upstream, publisher: acceptingPublisher, log: silentLog });
  // The benchmark's routes never list links: the in-memory table has no listing.
  const queries = {
    listChanges: (linkId: string) => store.listChanges(linkId),
    listLinks: () => Promise.reject(new Error('MemoryLinkStore: no listing')),
  };
  const api = createApi(new LinkRequests({ tracker, store, queries }), silentLog);
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      writeApiResult(
        response,
        (await api(httpApiEventOf(request, body))) as APIGatewayProxyStructuredResultV2,
      );
    })().catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  try {
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await register(apiUrl, links);
    await measure(apiUrl, sandbox, links, WARMUP_REQUESTS);
    progress(`api latency: table in memory, ${MEMORY_REQUESTS} requests of each kind`);
    const latencies = await measure(apiUrl, sandbox, links, MEMORY_REQUESTS);
    progress(`api latency: table in memory: ${describe(latencies)}`);
    return latencies;
  } finally {
    await close();
  }
}

const UPSTREAM_CREDENTIALS = {
  clientId: SAMPLE_CREDENTIALS.clientId,
  clientSecret: SAMPLE_CREDENTIALS.clientSecret,
  endpointIp: '127.0.0.1',
  authCode: '1' as const,
};

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

async function apiLatencyFigures(): Promise<Figure[]> {
  const sandbox = await startSandboxProcess();
  const closeSandbox = onCleanup(() => sandbox.close());
  try {
    const links: string[] = [];
    for (let i = 0; i < LINKS; i++) {
      links.push(await sandbox.createLink({ amount: 100, timeline: [{ afterMs: 0, status: 'ISSUED' }] }));
    }
    await sandbox.addFault({ kind: 'latency', value: UPSTREAM_LATENCY_MS });
    const { latencies, dynamo } = await localCloudLatencies(sandbox, links);
    const memory = await memoryTableLatencies(sandbox, links);

    const ratio = (of: Latencies, p: number) => percentile(of.api, p) / percentile(of.direct, p);
    const dynamoNote = `per call p50 ${ms(percentile(dynamo, 50))}, p99 ${ms(percentile(dynamo, 99))}; ${(dynamo.length / latencies.api.length).toFixed(2)} calls per GET`;
    const figures: Figure[] = [];
    for (const [p, target] of [
      [50, P50_TARGET],
      [99, P99_TARGET],
    ] as const) {
      figures.push(
        {
          key: `apiLatencyRatio.p${p}`,
          value: ratio(latencies, p),
          target,
          limit: LIMIT,
          note: `local cloud (table on moto): ${ms(percentile(latencies.api, p))} / ${ms(percentile(latencies.direct, p))}, ${latencies.api.length} requests of each, ${CONCURRENCY} workers`,
        },
        {
          key: 'emulatorShare',
          of: `apiLatencyRatio.p${p}`,
          value: percentile(dynamo, p),
          unit: 'ms',
          limit: `p${p} of the emulator's DynamoDB calls inside those GETs, timed in the SDK`,
          note: dynamoNote,
        },
        {
          key: 'memoryTable',
          of: `apiLatencyRatio.p${p}`,
          value: ratio(memory, p),
          limit: 'the same API code with the table in memory (no emulator)',
          note: `${ms(percentile(memory.api, p))} / ${ms(percentile(memory.direct, p))}, ${memory.api.length} requests of each`,
        },
      );
    }
    return figures;
  } finally {
    await closeSandbox();
  }
}

export const apiLatency: Benchmark = {
  name: 'API latency',
  figures: [
    { key: 'apiLatencyRatio.p50', target: P50_TARGET, limit: LIMIT },
    { key: 'apiLatencyRatio.p99', target: P99_TARGET, limit: LIMIT },
  ],
  run: apiLatencyFigures,
};
