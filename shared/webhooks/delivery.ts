import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { retryAfterSeconds } from '#shared/http/retry-after.ts';
import type { AttemptError } from './delivery-record.ts';
import {
  DELIVERY_TIMEOUT_MS,
  MAX_VISIBILITY_SECONDS,
  RETRY_BASE_DELAYS_SECONDS,
  RETRY_WINDOW_MS,
  retryFloorSeconds,
  WEBHOOK_QUEUE,
} from './routing.ts';
import { signatureHeader } from './signing.ts';
import { subscriberHost, subscriberUrlProblems } from './subscriber.ts';
import { addressAllowed } from './subscriber-address.ts';

export const USER_AGENT = 'payout-link-tracker-webhooks/1.0';

/** How much of an answer's body is read: a delivery needs only the status and `Retry-After`. */
export const MAX_ANSWER_BYTES = 4096;

export interface AttemptResult {
  /** The HTTP status, when the subscriber answered. */
  status?: number;
  retryAfter?: string | null;
  /** Why there was no answer. */
  error?: AttemptError;
  /** Why the address was refused, never naming the address it resolved to. */
  refusal?: string;
  /** Bytes of the answer's body read before it ended or the connection was dropped. */
  bodyBytesRead?: number;
  latencyMs: number;
}

/** Every address a name resolves to, as the system resolver gives them (`dns.lookup`). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export const resolveHost: ResolveHost = (hostname) => lookup(hostname, { all: true });

export interface DeliveryNetwork {
  /** Loopback receivers are allowed (the local stage, tests); nothing else that is not public ever is. */
  allowLoopback?: boolean;
  resolve?: ResolveHost;
  /** The connection pools (Node's global agents by default). */
  agents?: { http?: http.Agent; https?: https.Agent };
}

/**
 * One signed POST to a subscriber: the Standard Webhooks headers, a 15 s timeout for everything
 * (the lookup included), redirects not followed (a 3xx is an answer like any other). The host is
 * resolved once and the attempt refused if any of its addresses is not public; the connection goes
 * to those checked addresses (no second lookup), with the URL's name as `Host` and TLS server name.
 * At most {@link MAX_ANSWER_BYTES} of the answer are read, then the connection is dropped.
 */
export async function postWebhook(
  request: {
    url: string;
    id: string;
    body: string;
    secrets: readonly string[];
    timestampSeconds: number;
    timeoutMs?: number;
  } & DeliveryNetwork,
): Promise<AttemptResult> {
  const started = performance.now();
  const latencyMs = () => performance.now() - started;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), request.timeoutMs ?? DELIVERY_TIMEOUT_MS);
  try {
    const target = await checkedTarget(request, deadline.signal);
    if ('refusal' in target)
      return { error: 'refused-address', refusal: target.refusal, latencyMs: latencyMs() };
    const answer = await send(
      target,
      {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': request.id,
        'webhook-timestamp': String(request.timestampSeconds),
        'webhook-signature': signatureHeader(
          request.id,
          request.timestampSeconds,
          request.body,
          request.secrets,
        ),
      },
      request.body,
      request.agents ?? {},
      deadline.signal,
    );
    return { ...answer, latencyMs: latencyMs() };
  } catch {
    return { error: deadline.signal.aborted ? 'timeout' : 'connection', latencyMs: latencyMs() };
  } finally {
    clearTimeout(timer);
  }
}

interface Target {
  url: URL;
  /** Where to connect: every address the host resolved to, each checked. */
  addresses: LookupAddress[];
}

async function checkedTarget(
  request: { url: string } & DeliveryNetwork,
  signal: AbortSignal,
): Promise<Target | { refusal: string }> {
  const allowLoopback = request.allowLoopback ?? false;
  const problems = subscriberUrlProblems(request.url, { allowLoopback });
  if (problems.length > 0) return { refusal: `the subscriber URL ${problems.join(', ')}` };
  const url = new URL(request.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  const addresses =
    family === 0
      ? await abortable((request.resolve ?? resolveHost)(host), signal)
      : [{ address: host, family }];
  if (addresses.length === 0) throw new Error(`${subscriberHost(url)} resolves to no address`);
  if (!addresses.every((entry) => addressAllowed(entry.address, { allowLoopback })))
    return { refusal: 'the subscriber URL resolves to a non-public address' };
  return { url, addresses };
}

/** The connection's lookup: answers with the addresses already checked, never asks the resolver again. */
function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const usable = addresses.filter((entry) => !family || entry.family === family);
    const chosen = usable.length > 0 ? usable : addresses;
    if (options.all) callback(null, chosen);
    else callback(null, chosen[0]!.address, chosen[0]!.family);
  };
}

function send(
  target: Target,
  headers: Record<string, string>,
  body: string,
  agents: NonNullable<DeliveryNetwork['agents']>,
  signal: AbortSignal,
): Promise<Omit<AttemptResult, 'latencyMs'>> {
  const { url } = target;
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    let response: IncomingMessage | undefined;
    let bytes = 0;
    // The status and headers are the answer: a body cut short (dropped, timed out) does not change it.
    const answered = () => {
      if (!response) return;
      resolve({
        status: response.statusCode ?? 0,
        retryAfter: headerValue(response.headers['retry-after']),
        bodyBytesRead: bytes,
      });
    };
    const options: https.RequestOptions = {
      method: 'POST',
      protocol: url.protocol,
      // The name, so that Node sends it as Host and as the TLS server name and checks the certificate against it.
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: pinnedLookup(target.addresses),
      signal,
    };
    const agent = secure ? agents.https : agents.http;
    if (agent) options.agent = agent;
    const outgoing = (secure ? https : http).request(options, (incoming) => {
      response = incoming;
      incoming.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes >= MAX_ANSWER_BYTES) {
          answered();
          incoming.destroy();
        }
      });
      incoming.on('end', answered);
      incoming.on('close', answered);
      incoming.on('error', answered);
    });
    outgoing.on('error', (error) => {
      if (response) answered();
      else reject(error);
    });
    outgoing.end(body);
  });
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export type Decision =
  | { kind: 'delivered' }
  /** 410 Gone: the subscriber asked to stop. */
  | { kind: 'gone' }
  | { kind: 'retry'; delaySeconds: number; reason: string }
  /** Retried for the whole window: to the dead-letter queue, for an operator to redrive. */
  | { kind: 'dead'; reason: string };

export interface RetryPolicy {
  random?: () => number;
  /** Compresses the backoff (not `Retry-After`, not the window) for tests; 1 everywhere else. */
  scale?: number;
}

/**
 * What to do after an attempt: 2xx is delivered; 410 stops the subscriber; anything else is retried
 * until the message is older than the retry window, after a wait of {@link retryDelaySeconds}
 * (a 429 or 5xx may lengthen it with `Retry-After`, never shorten it).
 */
export function decide(
  result: AttemptResult,
  attempt: number,
  firstSentAt: number,
  now: number,
  policy: RetryPolicy = {},
): Decision {
  const { status } = result;
  if (status !== undefined && status >= 200 && status <= 299) return { kind: 'delivered' };
  if (status === 410) return { kind: 'gone' };
  const reason = status === undefined ? (result.error ?? 'connection') : `HTTP ${status}`;
  if (now - firstSentAt >= RETRY_WINDOW_MS) return { kind: 'dead', reason };
  const asked =
    status === 429 || (status !== undefined && status >= 500)
      ? retryAfterSeconds(result.retryAfter, now)
      : undefined;
  return {
    kind: 'retry',
    delaySeconds: retryDelaySeconds(attempt, now - firstSentAt, policy, asked),
    reason,
  };
}

/**
 * How long SQS holds a failed delivery before attempt `attempt + 1`: the jittered backoff, or what
 * the subscriber asked if longer, at most 12 hours, and never past the end of the window (the
 * attempt there is the last: the function dead-letters it if it fails). Past the window (a message
 * the function could not dead-letter) the queue's own visibility timeout, so the redrive backstop
 * takes it within `maxReceiveCount` receives.
 */
export function retryDelaySeconds(
  attempt: number,
  ageMs: number,
  policy: RetryPolicy = {},
  askedSeconds?: number,
): number {
  const wanted = Math.min(
    Math.max(backoffSeconds(attempt, policy), askedSeconds ?? 0),
    MAX_VISIBILITY_SECONDS,
  );
  const remaining = Math.ceil((RETRY_WINDOW_MS - ageMs) / 1000);
  if (remaining <= 0) return Math.min(wanted, WEBHOOK_QUEUE.visibilityTimeoutSeconds);
  return Math.min(wanted, remaining);
}

/** The backoff before retry `n` (1-based): drawn between {@link retryFloorSeconds} and its base. */
export function backoffSeconds(attempt: number, policy: RetryPolicy = {}): number {
  const index = Math.min(Math.max(Math.floor(attempt), 1), RETRY_BASE_DELAYS_SECONDS.length) - 1;
  const base = RETRY_BASE_DELAYS_SECONDS[index] ?? MAX_VISIBILITY_SECONDS;
  const floor = retryFloorSeconds(attempt);
  const draw = Math.min(Math.max((policy.random ?? Math.random)(), 0), 1) || 0;
  return Math.ceil((floor + draw * (base - floor)) * (policy.scale ?? 1));
}
