/**
 * Load (issue 9): 50 concurrent clients for 30 s (`autocannon`, closed loop: each connection sends
 * its next request when the last one is answered) against the local API of `npm start`, and the same
 * load sent straight to the sandbox's track endpoint; requests per second and p50/p99 latency of
 * both, as ratios. Also: every non-2xx response and connection error, whether a change was lost, and
 * the memory of the server process after warm-up and at the end.
 *
 * Three processes besides this one: the sandbox (`sandbox-process.ts`, answering every track call in
 * a fixed 50 ms, as in `api-latency.ts`); the server (`load-server-child.ts`: `startLocalCloud` with
 * its own emulator, the schedule and the pollers running as in `npm start`), so its memory is its own
 * and the load generator does not share its event loop; and the emulator, which the server starts.
 *
 * The direct run goes first, before the server exists, so nothing else of the benchmark runs beside
 * it. Then the links are registered (`POST /links`): `STATIC_LINKS` that stay `ISSUED` and
 * `LIFECYCLE_LINKS` whose sandbox timelines move them (claimed, cancelled, a claim failing back to
 * `ISSUED` then claimed, expired) during the measured 30 s, while the load's `GET /links/{id}` (the
 * links in turn) and the schedule race to record them. Afterwards every link's recorded changes
 * (`GET /links/{id}/events`, read from the table) must equal its real ones exactly once, each marked
 * published, each seen on the bus (the local cloud's console queue, a rule on the bus) and delivered
 * to the local webhook sink. A step the sandbox was never asked about while it held (its track calls
 * per link are sampled) is counted apart: nobody could have seen it, so it is not a lost change.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { stopProcess } from '#infra/local/moto.ts';
import type { TimelineStep } from '#infra/sandbox/server.ts';
import { STATUS_CHANGED } from '#shared/link/link-event.ts';
import { percentile, UPSTREAM_HEADERS } from './api-latency.ts';
import { onCleanup, progress } from './cleanup.ts';
import type { Benchmark, Figure } from './figures.ts';
import type { FromServer, ToServer } from './load-server-child.ts';
import { type SandboxProcess, startSandboxProcess } from './sandbox-process.ts';

const CONNECTIONS = 50;
const DURATION_SECONDS = 30;
const API_WARMUP_SECONDS = 4;
const DIRECT_WARMUP_SECONDS = 2;
const UPSTREAM_LATENCY_MS = 50;
const STATIC_LINKS = 26;
/** A multiple of the four lifecycle kinds. */
const LIFECYCLE_LINKS = 24;
/** Registrations in flight at once. */
const REGISTER_CONCURRENCY = 8;
/** How long after the load the changes still on their way may take to be recorded and delivered. */
const SETTLE_MS = 15_000;
/** The problem types of a failure of the upstream: the only non-2xx the API may answer under load. */
const UPSTREAM_PROBLEMS =
  /upstream-(unavailable|bad-answer|credentials-rejected|credentials-not-configured)$/;

const LIMIT = `the same load straight to the sandbox (${CONNECTIONS} connections, ${DURATION_SECONDS} s, ${UPSTREAM_LATENCY_MS} ms fixed)`;

const CHILD_SCRIPT = fileURLToPath(new URL('./load-server-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------------
// The server process

interface Memory {
  rss: number;
  heapUsed: number;
  oldSpace: number;
  codeSpace: number;
  cpuMs: number;
  emulatorCpuMs: number;
}

interface ServerProcess {
  apiUrl: string;
  /** Every line the local cloud printed so far (events, webhooks, deliveries, failures). */
  lines: string[];
  /** Lines the functions logged (Powertools, WARN and up) and anything else the process wrote on stderr. */
  logLines: string[];
  memory(gc: boolean): Promise<Memory>;
  recordDynamo(on: true): void;
  recordDynamo(on: false): Promise<number[]>;
  close(): Promise<void>;
}

async function startServerProcess(sandboxUrl: string): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOAD_SANDBOX_URL: sandboxUrl };
  // Its own emulator, as `npm start`: not the one the other benchmarks share.
  delete env.AWS_ENDPOINT_URL;
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD_SCRIPT], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  const logLines: string[] = [];
  // What the functions log (Powertools: stdout) and anything on stderr, but Powertools Metrics'
  // notice that a run had no metrics (the local cloud disables publishing them): one per invocation.
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      logLines.push(
        ...complete.filter(
          (line) => line.trim() !== '' && !line.startsWith('No application metrics to publish'),
        ),
      );
    });
  }
  type Waiter = { resolve: (message: FromServer) => void; reject: (error: Error) => void };
  const waiters = new Map<string, Waiter[]>();
  child.on('message', (message: FromServer) => {
    if (message.type === 'line') lines.push(message.line);
    else waiters.get(message.type)?.shift()?.resolve(message);
  });
  child.once('exit', (code, signal) => {
    for (const waiting of waiters.values()) {
      for (const waiter of waiting.splice(0)) {
        waiter.reject(new Error(`the server process exited (${signal ?? `code ${code}`})`));
      }
    }
  });
  const next = <T extends FromServer['type']>(type: T) =>
    new Promise<Extract<FromServer, { type: T }>>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error('the server process has exited'));
        return;
      }
      const list = waiters.get(type) ?? [];
      list.push({ resolve: (message) => resolve(message as Extract<FromServer, { type: T }>), reject });
      waiters.set(type, list);
    });
  const send = (message: ToServer) => child.send(message);

  let startTimer: NodeJS.Timeout | undefined;
  const ready = await Promise.race([
    next('ready'),
    new Promise<never>((_, reject) => {
      startTimer = setTimeout(() => {
        void stopProcess(child);
        reject(new Error(`the server process did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
    }),
  ])
    .catch((error: Error) => {
      throw new Error(`${error.message}; it wrote: ${logLines.slice(-5).join(' | ')}`);
    })
    .finally(() => clearTimeout(startTimer));

  function recordDynamo(on: true): void;
  function recordDynamo(on: false): Promise<number[]>;
  function recordDynamo(on: boolean): undefined | Promise<number[]> {
    send({ type: 'dynamo', recording: on });
    if (on) return;
    return next('dynamo').then((message) => message.durations);
  }

  return {
    apiUrl: ready.apiUrl,
    lines,
    logLines,
    async memory(gc) {
      const answer = next('memory');
      send({ type: 'memory', gc });
      const { rss, heapUsed, oldSpace, codeSpace, cpuMs, emulatorCpuMs } = await answer;
      return { rss, heapUsed, oldSpace, codeSpace, cpuMs, emulatorCpuMs };
    },
    recordDynamo,
    close: () => stopServer(child),
  };
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      void stopProcess(child, 1_000).then(resolve);
    }, 6_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send({ type: 'stop' } satisfies ToServer);
    else child.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------------------------------
// The links and their real changes

interface ScriptedLink {
  linkId: string;
  kind: string;
  /** The statuses the tracker must record, in order: the first observation, then each transition. */
  statuses: string[];
  /** When each transition after the first happens (epoch ms, the sandbox's clock is this machine's). */
  transitionsAt: number[];
}

const SECOND = 1_000;

/** Four lifecycles; `at` is when the first transition happens, after the link's creation. */
const LIFECYCLES: ReadonlyArray<{ kind: string; steps: (at: number) => TimelineStep[] }> = [
  {
    kind: 'claimed',
    steps: (at) => [
      { afterMs: 0, status: 'ISSUED' },
      { afterMs: at, status: 'PROCESSING' },
      { afterMs: at + 8 * SECOND, status: 'CLAIMED' },
    ],
  },
  {
    kind: 'cancelled',
    steps: (at) => [
      { afterMs: 0, status: 'ISSUED' },
      { afterMs: at + 4 * SECOND, status: 'CANCELLED' },
    ],
  },
  {
    kind: 'claim failed back, then claimed',
    steps: (at) => [
      { afterMs: 0, status: 'ISSUED' },
      { afterMs: at, status: 'PROCESSING' },
      { afterMs: at + 6 * SECOND, status: 'ISSUED' },
      { afterMs: at + 12 * SECOND, status: 'PROCESSING' },
      { afterMs: at + 18 * SECOND, status: 'CLAIMED' },
    ],
  },
  {
    kind: 'expired',
    steps: (at) => [
      { afterMs: 0, status: 'ISSUED' },
      { afterMs: at + 10 * SECOND, status: 'EXPIRED' },
    ],
  },
];

async function createStaticLinks(sandbox: SandboxProcess): Promise<ScriptedLink[]> {
  return pool(Array.from({ length: STATIC_LINKS }), REGISTER_CONCURRENCY, async () => ({
    linkId: await sandbox.createLink({ amount: 100, timeline: [{ afterMs: 0, status: 'ISSUED' }] }),
    kind: 'static',
    statuses: ['ISSUED'],
    transitionsAt: [],
  }));
}

/**
 * Links whose transitions start `firstAfterMs` after now, spread over 6 s, and end at most 24 s
 * later: inside the measured run when the run starts within `firstAfterMs` of now.
 */
async function createLifecycleLinks(sandbox: SandboxProcess, firstAfterMs: number): Promise<ScriptedLink[]> {
  return pool(
    Array.from({ length: LIFECYCLE_LINKS }, (_, i) => i),
    REGISTER_CONCURRENCY,
    async (i) => {
      const lifecycle = LIFECYCLES[i % LIFECYCLES.length] as (typeof LIFECYCLES)[number];
      const at = firstAfterMs + Math.round((6 * SECOND * i) / LIFECYCLE_LINKS);
      const steps = lifecycle.steps(at);
      const createdAt = Date.now();
      const linkId = await sandbox.createLink({ amount: 250, timeline: steps });
      return {
        linkId,
        kind: lifecycle.kind,
        statuses: steps.map((step) => step.status),
        transitionsAt: steps.slice(1).map((step) => createdAt + step.afterMs),
      };
    },
  );
}

async function register(apiUrl: string, links: readonly ScriptedLink[]): Promise<void> {
  await pool(links, REGISTER_CONCURRENCY, async ({ linkId }) => {
    const response = await fetch(`${apiUrl}/links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ linkId }),
    });
    if (response.status !== 201)
      throw new Error(`POST /links answered ${response.status}: ${await response.text()}`);
  });
}

async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------------------------------------------
// The load

interface LoadResult {
  requestsPerSecond: number;
  total: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** `status type` (the problem type's last segment) -> count, for the non-2xx answers. */
  byProblem: Map<string, number>;
  errors: number;
  timeouts: number;
  startedAt: number;
  endedAt: number;
}

async function fire(
  url: string,
  path: (linkId: string) => string,
  links: readonly string[],
  seconds: number,
  headers: Record<string, string> = {},
): Promise<LoadResult> {
  const byProblem = new Map<string, number>();
  const startedAt = Date.now();
  // Round robin, so each link is asked for at an even pace (every `links.length` requests).
  let next = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({
          ...request,
          path: path(links[next++ % links.length] as string),
        }),
        onResponse: (status, body) => {
          if (status >= 200 && status < 300) return;
          let type = 'not problem+json';
          try {
            type = String((JSON.parse(body) as { type?: unknown }).type ?? type).replace(/^.*\//, '');
          } catch {}
          const key = `${status} ${type}`;
          byProblem.set(key, (byProblem.get(key) ?? 0) + 1);
        },
      },
    ],
  });
  const endedAt = Date.now();
  return {
    requestsPerSecond: result.requests.total / result.duration,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    byProblem,
    errors: result.errors,
    timeouts: result.timeouts,
    startedAt,
    endedAt,
  };
}

const describeLoad = (name: string, run: LoadResult) =>
  `${name}: ${run.total} requests, ${run.requestsPerSecond.toFixed(0)}/s, p50 ${run.p50} ms, p99 ${run.p99} ms, non-2xx ${run.non2xx}, errors ${run.errors}`;

// ---------------------------------------------------------------------------------------------------
// The ledger: recorded, published, on the bus, delivered

interface RecordedEvent {
  detailType: string;
  sequence: number;
  status: string;
  publishedAt: string | null;
  trigger: string;
}

interface Ledger {
  /** Real changes (first observations and transitions). */
  expected: number;
  /** Real changes recorded exactly once, in order, marked published, on the bus and at the sink. */
  complete: number;
  /** Real changes not recorded (as expected) although the sandbox answered them while they held. */
  lostObserved: number;
  /** Real changes not recorded, and nobody asked the sandbox about the link during their window. */
  unobserved: number;
  /** Recorded changes that are not real (an extra or repeated status, an activity-only event). */
  extra: number;
  unpublished: number;
  notOnBus: number;
  notDelivered: number;
  /** (linkId, sequence) seen more than once on the bus (allowed: at least once). */
  busRepeats: number;
  triggers: Map<string, number>;
  problems: string[];
}

/** The sandbox's track calls per link, sampled during the API run (`GET /sandbox/stats`). */
interface CallSample {
  at: number;
  calls: Record<string, number>;
}

function sampleTrackCalls(sandboxUrl: string): { samples: CallSample[]; stop(): void } {
  const samples: CallSample[] = [];
  const timer = setInterval(() => {
    void fetch(`${sandboxUrl}/sandbox/stats`)
      .then((response) => response.json() as Promise<{ trackCalls: Record<string, number> }>)
      .then(({ trackCalls }) => samples.push({ at: Date.now(), calls: trackCalls }))
      .catch(() => {});
  }, 500);
  return { samples, stop: () => clearInterval(timer) };
}

/** Track calls of a link surely made within [from, to) (between two samples inside it): a lower bound. */
function callsWithin(samples: readonly CallSample[], linkId: string, from: number, to: number): number {
  const first = samples.find((sample) => sample.at >= from);
  const last = samples.findLast((sample) => sample.at < to);
  if (!first || !last || last.at <= first.at) return 0;
  return (last.calls[linkId] ?? 0) - (first.calls[linkId] ?? 0);
}

/** Which items of `recorded` a longest common subsequence with `real` pairs. */
function matchInOrder(real: readonly string[], recorded: readonly string[]): boolean[] {
  const lengths = Array.from({ length: real.length + 1 }, () =>
    new Array<number>(recorded.length + 1).fill(0),
  );
  for (let i = real.length - 1; i >= 0; i--) {
    for (let j = recorded.length - 1; j >= 0; j--) {
      const row = lengths[i] as number[];
      row[j] =
        real[i] === recorded[j]
          ? ((lengths[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((lengths[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const recordedMatched = recorded.map(() => false);
  for (let i = 0, j = 0; i < real.length && j < recorded.length; ) {
    if (real[i] === recorded[j]) {
      recordedMatched[j] = true;
      i++;
      j++;
    } else if (((lengths[i + 1] as number[])[j] as number) >= ((lengths[i] as number[])[j + 1] as number))
      i++;
    else j++;
  }
  return recordedMatched;
}

const ACTIVITY = '(activity)';

/** The events a history should have: a status change per kept step, new activity for a repeated status. */
function expectedTokens(statuses: readonly string[], keep: (step: number) => boolean): string[] {
  const tokens: string[] = [];
  let last: string | undefined;
  statuses.forEach((status, step) => {
    if (!keep(step)) return;
    tokens.push(status === last ? ACTIVITY : status);
    last = status;
  });
  return tokens;
}

async function readEvents(apiUrl: string, linkId: string): Promise<RecordedEvent[]> {
  const response = await fetch(`${apiUrl}/links/${linkId}/events`);
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`GET /links/${linkId}/events answered ${response.status}: ${text}`);
  return (JSON.parse(text) as { events: RecordedEvent[] }).events;
}

/** How many times each `linkId #sequence` appears in the server's lines of a kind. */
function seen(lines: readonly string[], pattern: RegExp): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) counts.set(`${match[1]} #${match[2]}`, (counts.get(`${match[1]} #${match[2]}`) ?? 0) + 1);
  }
  return counts;
}

async function checkLedger(
  server: ServerProcess,
  links: readonly ScriptedLink[],
  calls: readonly CallSample[],
): Promise<Ledger> {
  const recorded = await pool(links, REGISTER_CONCURRENCY, (link) => readEvents(server.apiUrl, link.linkId));
  // `event    <linkId> #<sequence> ...` is the console's view of the bus; `webhook  local-sink received`
  // a delivery whose signature verified.
  const onBus = seen(server.lines, /^event\s+(\S+) #(\d+) /);
  const delivered = seen(server.lines, /^webhook\s+\S+ received \S+ for (\S+) #(\d+) .*signature verified/);
  const ledger: Ledger = {
    expected: 0,
    complete: 0,
    lostObserved: 0,
    unobserved: 0,
    extra: 0,
    unpublished: 0,
    notOnBus: 0,
    notDelivered: 0,
    busRepeats: [...onBus.values()].filter((count) => count > 1).length,
    triggers: new Map(),
    problems: [],
  };
  links.forEach((link, index) => {
    const events = recorded[index] ?? [];
    ledger.expected += link.statuses.length;
    const tokens = events.map((event) => (event.detailType === STATUS_CHANGED ? event.status : ACTIVITY));
    // Step 0 is the registration's own observation; step n holds from transition n-1 to n.
    const asked = link.statuses.map((_, step) =>
      step === 0
        ? 1
        : callsWithin(
            calls,
            link.linkId,
            link.transitionsAt[step - 1] as number,
            link.transitionsAt[step] ?? Number.POSITIVE_INFINITY,
          ),
    );
    // Every real change, or only those the sandbox was asked about while they held (a step nobody
    // saw is not a change the tracker can know; what follows it may then be only new activity):
    // whichever the recorded history matches better.
    const full = expectedTokens(link.statuses, () => true);
    const seenOnly = expectedTokens(link.statuses, (step) => (asked[step] as number) > 0);
    const mismatch = (expected: readonly string[]) => {
      const matched = matchInOrder(expected, tokens).filter(Boolean).length;
      return expected.length + tokens.length - 2 * matched;
    };
    const useSeen = mismatch(seenOnly) < mismatch(full);
    const expected = useSeen ? seenOnly : full;
    const recordedOk = matchInOrder(expected, tokens);
    const expectedOk = matchInOrder(tokens, expected);
    const unobserved = useSeen ? asked.filter((count) => count === 0).length : 0;
    ledger.unobserved += unobserved;
    ledger.lostObserved += expectedOk.filter((ok) => !ok).length;
    ledger.extra += recordedOk.filter((ok) => !ok).length;
    if (unobserved > 0 || expectedOk.some((ok) => !ok) || recordedOk.some((ok) => !ok)) {
      const windows = link.statuses
        .map((status, step) => `${status}${step === 0 ? '' : ` (asked ${asked[step]}x)`}`)
        .join(' > ');
      ledger.problems.push(
        `${link.linkId} (${link.kind}): real ${windows}; recorded ${events.map((event) => `${event.sequence}:${event.detailType === STATUS_CHANGED ? event.status : `activity(${event.status})`}`).join(' ')}`,
      );
    }
    events.forEach((event, position) => {
      if (event.sequence !== position + 1)
        ledger.problems.push(`${link.linkId}: sequence ${event.sequence} at ${position + 1}`);
      ledger.triggers.set(event.trigger, (ledger.triggers.get(event.trigger) ?? 0) + 1);
      const key = `${link.linkId} #${event.sequence}`;
      const published = event.publishedAt !== null;
      const bus = (onBus.get(key) ?? 0) > 0;
      const sink = (delivered.get(key) ?? 0) > 0;
      if (!published) ledger.unpublished++;
      if (!bus) ledger.notOnBus++;
      if (!sink) ledger.notDelivered++;
      if (recordedOk[position] && published && bus && sink) ledger.complete++;
    });
  });
  return ledger;
}

/** Reads the ledger until it is complete or `SETTLE_MS` have passed: changes still in flight may finish. */
async function settledLedger(
  server: ServerProcess,
  links: readonly ScriptedLink[],
  calls: readonly CallSample[],
): Promise<Ledger> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const ledger = await checkLedger(server, links, calls);
    if (ledger.complete === ledger.expected && ledger.extra === 0) return ledger;
    if (Date.now() > deadline) return ledger;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

// ---------------------------------------------------------------------------------------------------
// The benchmark

const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const growth = (from: number, to: number) => ((to - from) / from) * 100;
const counts = (map: Map<string, number>) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => `${key} ${count}`)
    .join(', ');

async function loadFigures(): Promise<Figure[]> {
  const sandbox = await startSandboxProcess();
  const closeSandbox = onCleanup(() => sandbox.close());
  try {
    await sandbox.addFault({ kind: 'latency', value: UPSTREAM_LATENCY_MS });
    const staticLinks = await createStaticLinks(sandbox);

    // 1. Straight to the sandbox, with nothing else of the benchmark running.
    const trackPath = (linkId: string) => `/payments/payout/link/track/${linkId}`;
    const staticIds = staticLinks.map((link) => link.linkId);
    progress(
      `load: direct, ${DIRECT_WARMUP_SECONDS} s warm-up, then ${CONNECTIONS} connections for ${DURATION_SECONDS} s`,
    );
    await fire(sandbox.url, trackPath, staticIds, DIRECT_WARMUP_SECONDS, UPSTREAM_HEADERS);
    const direct = await fire(sandbox.url, trackPath, staticIds, DURATION_SECONDS, UPSTREAM_HEADERS);
    progress(`load: ${describeLoad('direct', direct)}`);

    // 2. The server process, the links registered, the lifecycles started.
    progress('load: starting the server process (local cloud, its own emulator)');
    const server = await startServerProcess(sandbox.url);
    const closeServer = onCleanup(() => server.close());
    try {
      const registerStartedAt = Date.now();
      // Transitions from 10 s after now: registration (about 5 s) and the warm-up come first.
      const lifecycleLinks = await createLifecycleLinks(sandbox, 10 * SECOND);
      const links = [...staticLinks, ...lifecycleLinks];
      await register(server.apiUrl, links);
      progress(
        `load: ${links.length} links registered in ${((Date.now() - registerStartedAt) / 1000).toFixed(1)} s`,
      );

      // 3. Through the API: warm-up, memory after it, the measured run, memory after it; the
      // sandbox's track calls per link sampled all along, to tell a lost change from one never seen.
      const calls = sampleTrackCalls(sandbox.url);
      onCleanup(async () => calls.stop());
      const apiPath = (linkId: string) => `/links/${linkId}`;
      const ids = links.map((link) => link.linkId);
      progress(
        `load: API, ${API_WARMUP_SECONDS} s warm-up, then ${CONNECTIONS} connections for ${DURATION_SECONDS} s`,
      );
      await fire(server.apiUrl, apiPath, ids, API_WARMUP_SECONDS);
      const afterWarmup = await server.memory(true);
      // The resident set every second; the heap after a full GC every 5 s (a pause of a few ms).
      const samples: Memory[] = [];
      const heapAfterGc: number[] = [afterWarmup.heapUsed];
      let tick = 0;
      const sampler = setInterval(() => {
        const gc = ++tick % 5 === 0;
        void server.memory(gc).then((memory) => {
          samples.push(memory);
          if (gc) heapAfterGc.push(memory.heapUsed);
        });
      }, 1_000);
      server.recordDynamo(true);
      let api: LoadResult;
      try {
        api = await fire(server.apiUrl, apiPath, ids, DURATION_SECONDS);
      } finally {
        clearInterval(sampler);
      }
      const dynamo = await server.recordDynamo(false);
      const atEnd = await server.memory(true);
      heapAfterGc.push(atEnd.heapUsed);
      progress(`load: ${describeLoad('API', api)}`);
      progress(
        `load: server heap after GC ${heapAfterGc.map(mb).join(', ')}; rss ${mb(afterWarmup.rss)} -> ${mb(atEnd.rss)}`,
      );

      // 4. Every real change recorded once, published, delivered.
      calls.stop();
      const ledger = await settledLedger(server, links, calls.samples);
      const transitions = lifecycleLinks.flatMap((link) => link.transitionsAt);
      const inWindow = transitions.filter((at) => at >= api.startedAt && at <= api.endedAt).length;
      const serverProblems = server.lines.filter(
        (line) => !/^(event|webhook|delivery) /.test(line) || /failed|NOT verify/.test(line),
      );
      progress(
        `load: ledger ${ledger.complete}/${ledger.expected} complete, lost after being observed ${ledger.lostObserved}, never observed ${ledger.unobserved}, extra ${ledger.extra}, unpublished ${ledger.unpublished}, not on bus ${ledger.notOnBus}, not delivered ${ledger.notDelivered}`,
      );
      for (const problem of [...ledger.problems, ...serverProblems, ...server.logLines].slice(0, 10)) {
        progress(`load:   ${problem.slice(0, 300)}`);
      }

      return figures({
        api,
        direct,
        ledger,
        afterWarmup,
        atEnd,
        samples,
        heapAfterGc,
        dynamo,
        inWindow,
        transitions: transitions.length,
        links: links.length,
        server,
        serverProblems,
      });
    } finally {
      await closeServer();
    }
  } finally {
    await closeSandbox();
  }
}

function figures(run: {
  api: LoadResult;
  direct: LoadResult;
  ledger: Ledger;
  afterWarmup: Memory;
  atEnd: Memory;
  samples: Memory[];
  heapAfterGc: number[];
  dynamo: number[];
  inWindow: number;
  transitions: number;
  links: number;
  server: ServerProcess;
  serverProblems: string[];
}): Figure[] {
  const { api, direct, ledger, afterWarmup, atEnd, samples } = run;
  const P50 = 'apiLatencyRatio.p50';
  const P99 = 'apiLatencyRatio.p99';
  const shape = `${CONNECTIONS} connections, ${DURATION_SECONDS} s`;
  const upstreamCaused = [...api.byProblem.entries()]
    .filter(([key]) => UPSTREAM_PROBLEMS.test(key))
    .reduce((sum, [, count]) => sum + count, 0);
  const otherErrors = api.non2xx - upstreamCaused + api.errors;
  const rssEarly = samples.slice(0, 5);
  const rssLate = samples.slice(-5);
  const mean = (values: Memory[]) => values.reduce((sum, value) => sum + value.rss, 0) / values.length;
  const rssTrend =
    rssEarly.length > 0 && rssLate.length > 0
      ? `rss under load ${mb(mean(rssEarly))} (first 5 s) -> ${mb(mean(rssLate))} (last 5 s), peak ${mb(Math.max(...samples.map((s) => s.rss)))}`
      : 'no samples under load';
  const apiSeconds = (api.endedAt - api.startedAt) / 1000;
  const cpuShare = (ms: number) => `${((ms / (apiSeconds * 1000)) * 100).toFixed(0)} %`;
  return [
    {
      key: 'load.apiRequestsPerSecond',
      of: P50,
      value: api.requestsPerSecond,
      unit: 'req/s',
      limit: 'GET /links/{id} on the local API (npm start, table on moto), an on-demand check each',
      note: `${shape}, ${api.total} requests over ${run.links} links (${LIFECYCLE_LINKS} of them changing)`,
    },
    {
      key: 'load.directRequestsPerSecond',
      of: P50,
      value: direct.requestsPerSecond,
      unit: 'req/s',
      limit: `the sandbox's track endpoint, ${UPSTREAM_LATENCY_MS} ms fixed`,
      note: `${shape}, ${direct.total} requests over the ${STATIC_LINKS} links that stay ISSUED; bound ${CONNECTIONS} / ${UPSTREAM_LATENCY_MS} ms = ${CONNECTIONS / (UPSTREAM_LATENCY_MS / 1000)}/s`,
    },
    {
      key: 'load.throughputRatio',
      of: P50,
      value: api.requestsPerSecond / direct.requestsPerSecond,
      limit: LIMIT,
      note: `API over direct; the emulator serves one request at a time: ${(run.dynamo.length / apiSeconds).toFixed(0)} link-store DynamoDB calls/s (API and schedule) during the run; CPU of a core: emulator ${cpuShare(atEnd.emulatorCpuMs - afterWarmup.emulatorCpuMs)}, server ${cpuShare(atEnd.cpuMs - afterWarmup.cpuMs)}`,
    },
    {
      key: 'load.apiP50',
      of: P50,
      value: api.p50,
      unit: 'ms',
      limit: 'p50 latency through the API under the load',
    },
    {
      key: 'load.directP50',
      of: P50,
      value: direct.p50,
      unit: 'ms',
      limit: 'p50 latency straight to the sandbox',
    },
    {
      key: 'load.p50Ratio',
      of: P50,
      value: api.p50 / direct.p50,
      limit: LIMIT,
      note: `${api.p50} ms / ${direct.p50} ms; p50 of the link store's DynamoDB calls (queued at the emulator) ${percentile(run.dynamo, 50).toFixed(0)} ms`,
    },
    {
      key: 'load.apiP99',
      of: P99,
      value: api.p99,
      unit: 'ms',
      limit: 'p99 latency through the API under the load',
    },
    {
      key: 'load.directP99',
      of: P99,
      value: direct.p99,
      unit: 'ms',
      limit: 'p99 latency straight to the sandbox',
    },
    {
      key: 'load.p99Ratio',
      of: P99,
      value: api.p99 / direct.p99,
      limit: LIMIT,
      note: `${api.p99} ms / ${direct.p99} ms; p99 of the link store's DynamoDB calls (queued at the emulator) ${percentile(run.dynamo, 99).toFixed(0)} ms`,
    },
    {
      key: 'load.errorResponses',
      of: P50,
      value: otherErrors,
      unit: 'responses',
      limit: 'non-2xx not caused by the upstream, plus connection errors (expected 0)',
      note: `API: non-2xx ${api.non2xx}${api.byProblem.size > 0 ? ` (${counts(api.byProblem)})` : ''}, of them upstream-caused ${upstreamCaused}; connection errors ${api.errors} (timeouts ${api.timeouts}); direct: non-2xx ${direct.non2xx}, errors ${direct.errors}; server printed ${run.serverProblems.length} failure lines, logged ${run.server.logLines.length} WARN/ERROR lines`,
    },
    {
      key: 'load.lostChanges',
      of: P50,
      value: ledger.expected - ledger.unobserved - ledger.complete + ledger.extra,
      unit: 'changes',
      limit:
        'real changes the sandbox answered, not recorded exactly once, published, on the bus, delivered (expected 0)',
      note: `${ledger.expected} real changes (${run.links} first observations, ${run.transitions} transitions, ${run.inWindow} during the measured run): ${ledger.complete} complete; lost after the sandbox answered them ${ledger.lostObserved}, extra ${ledger.extra}, unpublished ${ledger.unpublished}, not on the bus ${ledger.notOnBus}, not delivered ${ledger.notDelivered}; repeated on the bus ${ledger.busRepeats}; recorded by ${counts(ledger.triggers)}`,
    },
    {
      key: 'load.unobservedChanges',
      of: P50,
      value: ledger.unobserved,
      unit: 'changes',
      limit: 'real transitions the sandbox was not asked about while they held (not a loss: nobody saw them)',
      note: 'the next change of such a link carries their activity entries; each request goes round the links in turn, and the schedule checks a PROCESSING link every 0.5 s',
    },
    {
      key: 'load.serverHeapGrowth',
      of: P50,
      value: growth(afterWarmup.heapUsed, atEnd.heapUsed),
      unit: '%',
      limit: 'heap used after a full GC, server process, after warm-up -> after the run',
      note: `${mb(afterWarmup.heapUsed)} -> ${mb(atEnd.heapUsed)} over ${api.total} requests (old space ${mb(afterWarmup.oldSpace)} -> ${mb(atEnd.oldSpace)}, code ${mb(afterWarmup.codeSpace)} -> ${mb(atEnd.codeSpace)}); every 5 s: ${run.heapAfterGc.map((bytes) => (bytes / MB).toFixed(1)).join(', ')} MB`,
    },
    {
      key: 'load.serverRssGrowth',
      of: P50,
      value: growth(afterWarmup.rss, atEnd.rss),
      unit: '%',
      limit: 'resident set of the server process, after warm-up -> after the run',
      note: `${mb(afterWarmup.rss)} -> ${mb(atEnd.rss)}; ${rssTrend}`,
    },
  ];
}

/**
 * No contract key of its own (issue 8 fixes the keys of `npm run bench -- --json`): its rows are info
 * rows of `apiLatencyRatio.*`. A failure is one info row saying so, as there is no key to mark.
 */
export const load: Benchmark = {
  name: 'Load',
  figures: [],
  async run() {
    try {
      return await loadFigures();
    } catch (error) {
      progress(`load failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return [
        {
          key: 'load',
          of: 'apiLatencyRatio.p50',
          value: Number.NaN,
          limit: LIMIT,
          note: `the load run failed: ${error instanceof Error ? error.message : String(error)}`,
        },
      ];
    }
  },
};
