import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { type Clock, systemClock } from '#shared/clock.ts';
import { formatIst } from '#shared/instantpay/ist-time.ts';
import { ManualClock } from './clock.ts';
import { envelope, statusTextOf } from './envelope.ts';
import { parseControlInput, SandboxConflictError, SandboxInputError } from './errors.ts';
import { type FaultInput, FaultStore } from './faults.ts';
import { SandboxLinks, type ScriptedLinkInput, type TimelineStep } from './links.ts';
import { preloadSampleLink, SAMPLE_CREDENTIALS as SAMPLE } from './sample.ts';
import {
  answerUpstream,
  linkIdOf,
  matchUpstreamRoute,
  type SandboxCredentials,
  UNPARSABLE,
  type UpstreamRequest,
} from './upstream.ts';

export { SandboxConflictError, SandboxInputError } from './errors.ts';
export type { FaultInput } from './faults.ts';
export type { TimelineStep } from './links.ts';
export { SAMPLE_ENDPOINT_IP, SAMPLE_LINK_ID, SAMPLE_TRACK_DATA } from './sample.ts';
export type { SandboxCredentials } from './upstream.ts';

/** The credentials of the sample curl in `track-link-api.txt`: what the sandbox accepts by default. */
export const SAMPLE_CREDENTIALS: SandboxCredentials = { ...SAMPLE };

export interface SandboxOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Drives link timelines and envelope timestamps; the system clock by default. */
  clock?: Clock;
  /** Default {@link SAMPLE_CREDENTIALS}. */
  credentials?: SandboxCredentials;
  /** Timeline of links created through `POST /payments/payout/link/create`. */
  defaultTimeline?: TimelineStep[];
  /** One line per request (method, path, outcome); nothing secret or personal. Silent by default. */
  log?: (line: string) => void;
  /** Rolls for faults with a probability; `Math.random` by default. */
  random?: () => number;
}

export interface SandboxStats {
  trackCalls: Record<string, number>;
  /** Track calls in all. */
  total: number;
  /** List calls received (every request, answered or not). */
  listCalls: number;
}

export interface Sandbox {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly clock: Clock;
  /** Forgets links created since start (not the sample link), faults and stats. */
  reset(): void;
  stats(): SandboxStats;
  /** Same as `POST /sandbox/links`; throws `SandboxInputError` (400) or `SandboxConflictError` (409). */
  createLink(input: {
    linkId?: string;
    amount: number;
    timeline: TimelineStep[];
    referenceNo?: string;
  }): string;
  /** Same as `POST /sandbox/faults`; throws `SandboxInputError` (400). */
  addFault(fault: FaultInput): string;
  clearFaults(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

const credentialsSchema = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  endpointIp: z.string().min(1).optional(),
});

const clockBody = z.strictObject({ advanceMs: z.int().min(0) });

/**
 * Starts the InstantPay sandbox: the five payout-link endpoints, the preloaded sample link, and the
 * control API under `/sandbox/`.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const clock = options.clock ?? systemClock;
  const credentials = parseControlInput(
    credentialsSchema,
    options.credentials ?? SAMPLE_CREDENTIALS,
    'credentials',
  );
  const log = options.log ?? (() => {});
  let url = '';
  const links = new SandboxLinks({ clock, defaultTimeline: options.defaultTimeline, linkUrlBase: () => url });
  preloadSampleLink(links);
  const faults = new FaultStore(options.random);
  const trackCalls = new Map<string, number>();
  let listCalls = 0;
  const timers = new Set<NodeJS.Timeout>();
  let closing: Promise<void> | undefined;

  /** A timer that `close()` clears; `onFire` never runs after close. */
  const schedule = (ms: number, onFire: () => void): NodeJS.Timeout => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      onFire();
    }, ms);
    timers.add(timer);
    return timer;
  };
  const cancelTimer = (timer: NodeJS.Timeout) => {
    clearTimeout(timer);
    timers.delete(timer);
  };
  const sleep = (ms: number) => new Promise<void>((resolve) => (ms > 0 ? schedule(ms, resolve) : resolve()));

  const reset = () => {
    links.reset();
    preloadSampleLink(links);
    faults.clear();
    trackCalls.clear();
    listCalls = 0;
  };
  const stats = (): SandboxStats => {
    let total = 0;
    for (const count of trackCalls.values()) total += count;
    return { trackCalls: Object.fromEntries(trackCalls), total, listCalls };
  };

  async function handleUpstream(req: IncomingMessage, res: ServerResponse, requestUrl: URL): Promise<string> {
    const method = req.method ?? 'GET';
    const route = matchUpstreamRoute(method, requestUrl.pathname);
    if (route?.kind === 'track') trackCalls.set(route.linkId, (trackCalls.get(route.linkId) ?? 0) + 1);
    if (route?.kind === 'list') listCalls++;
    const text = await readBody(req);
    if (!route) {
      sendJson(res, 404, envelope('OUE', statusTextOf('OUE'), null, clock.now()));
      return '404 OUE';
    }
    const request: UpstreamRequest = {
      route,
      headers: req.headers,
      body: text === undefined ? UNPARSABLE : parseJson(text),
    };
    const { latencyMs, fault } = faults.select(linkIdOf(request));
    await sleep(latencyMs);
    const delayed = latencyMs > 0 ? ` after ${latencyMs} ms` : '';
    switch (fault?.kind) {
      case 'timeout': {
        const timer = schedule(fault.value as number, () => req.socket.destroy());
        res.once('close', () => cancelTimer(timer));
        return `held ${fault.value} ms then dropped (fault ${fault.id})${delayed}`;
      }
      case 'http-status': {
        const status = fault.value as number;
        const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
        if (status === 429 || status === 503) headers['retry-after'] = '1';
        res.writeHead(status, headers).end(`${status} ${STATUS_CODES[status] ?? 'Error'}`);
        return `${status} (fault ${fault.id})${delayed}`;
      }
      case 'malformed':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(String(fault.value));
        return `200 malformed (fault ${fault.id})${delayed}`;
      case 'statuscode': {
        const code = String(fault.value);
        sendJson(res, 200, envelope(code, statusTextOf(code), null, clock.now()));
        return `200 ${code} (fault ${fault.id})${delayed}`;
      }
      default: {
        const answer = answerUpstream(request, { links, credentials, nowMs: clock.now() });
        sendJson(
          res,
          200,
          envelope(answer.statuscode, answer.status, answer.data, clock.now(), answer.orderid ?? null),
        );
        return `200 ${answer.statuscode}${delayed}`;
      }
    }
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, path: string): Promise<string> {
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    const body = () => {
      if (text === undefined) throw new SandboxInputError(`The body is larger than ${MAX_BODY_BYTES} bytes`);
      const parsed = parseJson(text);
      if (parsed === UNPARSABLE) throw new SandboxInputError('The body is not JSON');
      return parsed;
    };
    try {
      const route = `${method} ${path}`;
      if (route === 'POST /sandbox/links') {
        sendJson(res, 201, { linkId: links.createScripted(body()) });
      } else if (route === 'POST /sandbox/faults') {
        sendJson(res, 201, { faultId: faults.add(body()) });
      } else if (route === 'GET /sandbox/faults') {
        sendJson(res, 200, { faults: faults.list() });
      } else if (route === 'DELETE /sandbox/faults') {
        faults.clear();
        res.writeHead(204).end();
      } else if (method === 'DELETE' && path.startsWith('/sandbox/faults/')) {
        const id = decodeURIComponent(path.slice('/sandbox/faults/'.length));
        if (faults.remove(id)) res.writeHead(204).end();
        else sendProblem(res, 404, `No fault with id ${id}`);
      } else if (route === 'GET /sandbox/stats') {
        sendJson(res, 200, stats());
      } else if (route === 'POST /sandbox/reset') {
        reset();
        res.writeHead(204).end();
      } else if (route === 'GET /sandbox/clock') {
        sendJson(res, 200, clockState(clock));
      } else if (route === 'POST /sandbox/clock') {
        if (!(clock instanceof ManualClock)) {
          throw new SandboxConflictError(
            'The sandbox runs on the system clock; only a manual clock can be advanced',
          );
        }
        clock.advance(parseControlInput(clockBody, body(), 'clock change').advanceMs);
        sendJson(res, 200, clockState(clock));
      } else {
        sendProblem(res, 404, `No control endpoint ${method} ${path}`);
      }
    } catch (error) {
      if (error instanceof SandboxInputError || error instanceof SandboxConflictError) {
        sendProblem(res, error.httpStatus, error.message);
      } else {
        throw error;
      }
    }
    return String(res.statusCode);
  }

  const server = createServer((req, res) => {
    const requestUrl = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const path = requestUrl.pathname;
    const isControl = path === '/sandbox' || path.startsWith('/sandbox/');
    const handling = isControl ? handleControl(req, res, path) : handleUpstream(req, res, requestUrl);
    handling.then(
      // The path only: a query string may carry a contact filter (personal data).
      (outcome) => log(`${req.method} ${path} -> ${outcome}`),
      (error: unknown) => {
        log(`${req.method} ${path} -> failed: ${error instanceof Error ? error.message : String(error)}`);
        if (res.headersSent) res.destroy();
        else sendProblem(res, 500, 'The sandbox failed to answer');
      },
    );
  });
  // Idle connections outlive the clients' own idle timeouts, so a reused connection is never cut under them.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${displayHost(options.host ?? '127.0.0.1')}:${port}`;

  return {
    url,
    port,
    clock,
    reset,
    stats,
    createLink: (input: ScriptedLinkInput) => links.createScripted(input),
    addFault: (fault: FaultInput) => faults.add(fault),
    clearFaults: () => faults.clear(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        // Held (timeout fault), delayed and keep-alive connections would otherwise keep close() waiting.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function clockState(clock: Clock) {
  const now = clock.now();
  return { now, time: formatIst(now) };
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** The body as text; `undefined` when it is larger than the limit (the rest is drained). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.once('end', () =>
      resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')),
    );
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client went away before sending the whole request'));
    });
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return UNPARSABLE;
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

function sendProblem(res: ServerResponse, status: number, detail: string): void {
  const problem = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail };
  res.writeHead(status, { 'content-type': 'application/problem+json' }).end(JSON.stringify(problem));
}
