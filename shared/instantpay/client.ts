import { type Clock, systemClock } from '#shared/clock.ts';
import { DEFAULTS } from '#shared/config/defaults.ts';
import type { CredentialsSource, InstantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import { retryAfterSeconds } from '#shared/http/retry-after.ts';
import type { LinkObservation } from '#shared/link/link-observation.ts';
import { isValidLinkId } from '#shared/link-id.ts';
import { maskText } from '#shared/masking.ts';
import {
  InvalidLinkIdError,
  LinkNotFoundError,
  UpstreamCredentialsError,
  UpstreamIntegrationError,
  UpstreamProtocolError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from './errors.ts';
import { type HttpAnswer, type HttpGet, type HttpSend, keepAliveGet } from './http-get.ts';
import { describeIssues, type Envelope, EnvelopeSchema, TrackDataSchema } from './schemas.ts';
import { classifyStatusCode, DOWNTIME_CODES } from './status-codes.ts';

const DEFAULT_BASE_URL = 'https://api.instantpay.in';
/** What callers are told to wait when the upstream is pending or down and gave no `Retry-After`. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;
const DOWNTIME_RETRY_AFTER_SECONDS = 60;
const EXCERPT_LENGTH = 80;

export interface InstantPayClientOptions {
  credentials: CredentialsSource;
  /** Used when the secret has no `baseUrl`. */
  baseUrl?: string;
  timeoutMs?: number;
  clock?: Clock;
  /** A keep-alive `node:http` GET (connections reused within a container) unless a test swaps it. */
  httpGet?: HttpGet;
  /** The same pool for a request with a body (List is a GET with a JSON body: `list-client.ts`) unless a test swaps it. */
  httpSend?: HttpSend;
}

export interface InstantPayClient {
  /** Tracks one link: the answer as the link model's observation. Throws only the typed errors of `./errors.ts`; never retries on its own, except one refetch of rotated credentials. */
  trackLink(linkId: string): Promise<LinkObservation>;
}

/** The four documented headers (`X-Ipay-Auth-Code` "1", client id, client secret, endpoint IP). */
export function ipayHeaders(credentials: InstantPayCredentials): Record<string, string> {
  return {
    'X-Ipay-Auth-Code': credentials.authCode,
    'X-Ipay-Client-Id': credentials.clientId,
    'X-Ipay-Client-Secret': credentials.clientSecret,
    'X-Ipay-Endpoint-Ip': credentials.endpointIp,
    Accept: 'application/json',
  };
}

/** What every InstantPay call shares: the base URL, the timeout, the clock and the credentials with their refetch. */
export interface UpstreamSession {
  timeoutMs: number;
  clock: Clock;
  baseUrlOf(credentials: InstantPayCredentials): string;
  /** Calls once; when InstantPay rejects the credentials, refetches the secret once and retries only if it changed. */
  withCredentials<T>(call: (credentials: InstantPayCredentials) => Promise<T>): Promise<T>;
}

export function upstreamSession(options: InstantPayClientOptions): UpstreamSession {
  return {
    timeoutMs: options.timeoutMs ?? DEFAULTS.upstreamTimeoutMs,
    clock: options.clock ?? systemClock,
    baseUrlOf: (credentials) =>
      (credentials.baseUrl ?? options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ''),
    async withCredentials(call) {
      const credentials = await options.credentials.get();
      try {
        return await call(credentials);
      } catch (error) {
        if (!(error instanceof UpstreamCredentialsError)) throw error;
        // A rejected credential may mean the secret was rotated: refetch it once, now, and retry
        // only if it changed, so a rotation takes effect without a redeploy.
        const fresh = await options.credentials.get({ forceFetch: true });
        if (sameCredentials(fresh, credentials)) throw error;
        return call(fresh);
      }
    },
  };
}

/**
 * The Track Link client. The List call is `list-client.ts`, a module of its own, so the functions
 * that only track (the API, the schedule) do not bundle its parser.
 */
export function createInstantPayClient(options: InstantPayClientOptions): InstantPayClient {
  const session = upstreamSession(options);
  const httpGet = options.httpGet ?? keepAliveGet;

  async function trackOnce(linkId: string, credentials: InstantPayCredentials): Promise<LinkObservation> {
    const url = `${session.baseUrlOf(credentials)}/payments/payout/link/track/${encodeURIComponent(linkId)}`;
    const startedAt = session.clock.now();
    let answer: HttpAnswer;
    try {
      answer = await httpGet(url, ipayHeaders(credentials), session.timeoutMs);
    } catch (error) {
      throw networkError(error, session.timeoutMs);
    }
    return parseTrackResponse(linkId, answer.status, answer.retryAfter, answer.text, {
      startedAt,
      observedAt: session.clock.now(),
    });
  }

  return {
    async trackLink(linkId) {
      if (!isValidLinkId(linkId)) throw new InvalidLinkIdError(String(linkId));
      return session.withCredentials((credentials) => trackOnce(linkId, credentials));
    },
  };
}

function sameCredentials(a: InstantPayCredentials, b: InstantPayCredentials): boolean {
  return (
    a.clientId === b.clientId &&
    a.clientSecret === b.clientSecret &&
    a.endpointIp === b.endpointIp &&
    a.authCode === b.authCode &&
    a.baseUrl === b.baseUrl
  );
}

export function networkError(error: unknown, timeoutMs: number): UpstreamUnavailableError {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new UpstreamUnavailableError(
      `InstantPay did not answer within ${timeoutMs} ms.`,
      'timeout',
      DEFAULT_RETRY_AFTER_SECONDS,
      { cause: error },
    );
  }
  const code =
    (error as { code?: string } | undefined)?.code ??
    (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  return new UpstreamUnavailableError(
    `InstantPay could not be reached${code ? ` (${code})` : ''}.`,
    'network',
    DEFAULT_RETRY_AFTER_SECONDS,
    { cause: error },
  );
}

/**
 * The envelope of an answer, or a typed error. The HTTP status is read first: a 5xx or 429 is
 * transient whatever the body says; then the body must be JSON with the documented envelope.
 */
export function readEnvelope(
  httpStatus: number,
  retryAfterHeader: string | null,
  text: string,
  nowMs: number,
): Envelope {
  if (httpStatus >= 500 || httpStatus === 429) {
    throw new UpstreamUnavailableError(
      `InstantPay answered HTTP ${httpStatus}.`,
      'http-status',
      parseRetryAfter(retryAfterHeader, nowMs) ?? DEFAULT_RETRY_AFTER_SECONDS,
      { httpStatus },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UpstreamProtocolError(
      `InstantPay answered HTTP ${httpStatus} with a body that is not JSON.`,
      excerpt(text),
      { httpStatus },
    );
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new UpstreamProtocolError(
      `InstantPay answered HTTP ${httpStatus} with an unexpected envelope.`,
      describeIssues(envelope.error),
      { httpStatus },
    );
  }
  const { statuscode } = envelope.data;
  if (classifyStatusCode(statuscode) === 'success' && (httpStatus < 200 || httpStatus > 299)) {
    throw new UpstreamProtocolError(
      `InstantPay answered HTTP ${httpStatus} with statuscode TXN.`,
      statuscode,
      {
        statuscode,
        httpStatus,
      },
    );
  }
  return envelope.data;
}

/**
 * The typed error of an envelope that is not a success, by its `statuscode`'s class. `notFound`
 * says what the one "not known" code means on this call (`ITI` on Track Link: the link).
 */
export function envelopeError(
  envelope: Envelope,
  httpStatus: number,
  call: string,
  notFound: (details: { statuscode: string; httpStatus: number }) => Error,
): Error {
  const { statuscode } = envelope;
  const details = { statuscode, httpStatus };
  const message = envelope.status ? `: ${excerpt(envelope.status)}` : '';
  switch (classifyStatusCode(statuscode)) {
    case 'success':
      throw new Error('a success is not an error');
    case 'pending':
    case 'transient':
      return new UpstreamUnavailableError(
        `InstantPay answered ${statuscode}${message}.`,
        'statuscode',
        DOWNTIME_CODES.has(statuscode) ? DOWNTIME_RETRY_AFTER_SECONDS : DEFAULT_RETRY_AFTER_SECONDS,
        details,
      );
    case 'credentials':
      return new UpstreamCredentialsError(
        `InstantPay rejected the credentials or the account (${statuscode}${message}).`,
        details,
      );
    case 'integration':
      return new UpstreamIntegrationError(
        `InstantPay refused the ${call} request itself (${statuscode}${message}): the tracker's client or its configuration is at fault.`,
        details,
      );
    case 'not-found':
      return notFound(details);
    case 'failure':
      return new UpstreamRejectedError(
        `InstantPay answered the ${call} call with the failure ${statuscode}${message}.`,
        details,
      );
    case 'unknown':
      return new UpstreamRejectedError(
        `InstantPay answered an unknown statuscode ${excerpt(statuscode)}${message}.`,
        details,
      );
  }
}

/** Turns a Track Link answer into an observation or a typed error. Exported for the fuzz tests. */
export function parseTrackResponse(
  linkId: string,
  httpStatus: number,
  retryAfterHeader: string | null,
  text: string,
  times: { startedAt: number; observedAt: number },
): LinkObservation {
  const envelope = readEnvelope(httpStatus, retryAfterHeader, text, times.observedAt);
  if (classifyStatusCode(envelope.statuscode) !== 'success') {
    throw envelopeError(
      envelope,
      httpStatus,
      'Track Link',
      (details) => new LinkNotFoundError(linkId, details),
    );
  }
  const details = { statuscode: envelope.statuscode, httpStatus };
  const data = TrackDataSchema.safeParse(envelope.data);
  if (!data.success) {
    throw new UpstreamProtocolError(
      'InstantPay answered TXN with an unexpected data shape.',
      describeIssues(data.error),
      details,
    );
  }
  // The link model's observation: its types are its own, so the compiler checks the parser agrees.
  return {
    linkId,
    status: data.data.status,
    amount: data.data.amount,
    activity: data.data.linkActivity,
    statuscode: envelope.statuscode,
    ipayUuid: envelope.ipay_uuid ?? null,
    timestamp: envelope.timestamp ?? null,
    environment: envelope.environment ?? null,
    startedAt: times.startedAt,
    observedAt: times.observedAt,
  };
}

/** InstantPay's `Retry-After` as the wait its callers are told: 1 s to 1 hour; `undefined` when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  const seconds = retryAfterSeconds(header, nowMs);
  return seconds === undefined ? undefined : Math.min(Math.max(seconds, 1), 3600);
}

/** A short, single-line excerpt with personal data masked: safe for an error message or a log. */
export function excerpt(text: string): string {
  const flat = maskText(text.slice(0, EXCERPT_LENGTH * 4).replace(/\p{Cc}+/gu, ' ')).trim();
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH)}...` : flat;
}
