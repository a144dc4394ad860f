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
  UpstreamProtocolError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from './errors.ts';
import { type HttpAnswer, type HttpGet, keepAliveGet } from './http-get.ts';
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
}

export interface InstantPayClient {
  /** Tracks one link: the answer as the link model's observation. Throws only the typed errors of `./errors.ts`; never retries on its own, except one refetch of rotated credentials. */
  trackLink(linkId: string): Promise<LinkObservation>;
}

export function createInstantPayClient(options: InstantPayClientOptions): InstantPayClient {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.upstreamTimeoutMs;
  const clock = options.clock ?? systemClock;
  const httpGet = options.httpGet ?? keepAliveGet;

  async function trackOnce(linkId: string, credentials: InstantPayCredentials): Promise<LinkObservation> {
    const baseUrl = (credentials.baseUrl ?? options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    const url = `${baseUrl}/payments/payout/link/track/${encodeURIComponent(linkId)}`;
    const startedAt = clock.now();
    let answer: HttpAnswer;
    try {
      answer = await httpGet(
        url,
        {
          'X-Ipay-Auth-Code': credentials.authCode,
          'X-Ipay-Client-Id': credentials.clientId,
          'X-Ipay-Client-Secret': credentials.clientSecret,
          'X-Ipay-Endpoint-Ip': credentials.endpointIp,
          Accept: 'application/json',
        },
        timeoutMs,
      );
    } catch (error) {
      throw networkError(error, timeoutMs);
    }
    return parseTrackResponse(linkId, answer.status, answer.retryAfter, answer.text, {
      startedAt,
      observedAt: clock.now(),
    });
  }

  return {
    async trackLink(linkId) {
      if (!isValidLinkId(linkId)) throw new InvalidLinkIdError(String(linkId));
      const credentials = await options.credentials.get();
      try {
        return await trackOnce(linkId, credentials);
      } catch (error) {
        if (!(error instanceof UpstreamCredentialsError)) throw error;
        // A rejected credential may mean the secret was rotated: refetch it once, now, and retry
        // only if it changed, so a rotation takes effect without a redeploy.
        const fresh = await options.credentials.get({ forceFetch: true });
        if (sameCredentials(fresh, credentials)) throw error;
        return trackOnce(linkId, fresh);
      }
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

function networkError(error: unknown, timeoutMs: number): UpstreamUnavailableError {
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
 * Turns an HTTP answer into an observation or a typed error. The HTTP status is read first: a 5xx
 * or 429 is transient whatever the body says. Exported for the fuzz tests.
 */
export function parseTrackResponse(
  linkId: string,
  httpStatus: number,
  retryAfterHeader: string | null,
  text: string,
  times: { startedAt: number; observedAt: number },
): LinkObservation {
  if (httpStatus >= 500 || httpStatus === 429) {
    throw new UpstreamUnavailableError(
      `InstantPay answered HTTP ${httpStatus}.`,
      'http-status',
      parseRetryAfter(retryAfterHeader, times.observedAt) ?? DEFAULT_RETRY_AFTER_SECONDS,
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
      {
        httpStatus,
      },
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
  return fromEnvelope(linkId, httpStatus, envelope.data, times);
}

function fromEnvelope(
  linkId: string,
  httpStatus: number,
  envelope: Envelope,
  times: { startedAt: number; observedAt: number },
): LinkObservation {
  const { statuscode } = envelope;
  const details = { statuscode, httpStatus };
  const message = envelope.status ? `: ${excerpt(envelope.status)}` : '';
  switch (classifyStatusCode(statuscode)) {
    case 'success': {
      if (httpStatus < 200 || httpStatus > 299) {
        throw new UpstreamProtocolError(
          `InstantPay answered HTTP ${httpStatus} with statuscode TXN.`,
          statuscode,
          details,
        );
      }
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
        statuscode,
        ipayUuid: envelope.ipay_uuid ?? null,
        timestamp: envelope.timestamp ?? null,
        environment: envelope.environment ?? null,
        startedAt: times.startedAt,
        observedAt: times.observedAt,
      };
    }
    case 'transient':
      throw new UpstreamUnavailableError(
        `InstantPay answered ${statuscode}${message}.`,
        'statuscode',
        DOWNTIME_CODES.has(statuscode) ? DOWNTIME_RETRY_AFTER_SECONDS : DEFAULT_RETRY_AFTER_SECONDS,
        details,
      );
    case 'credentials':
      throw new UpstreamCredentialsError(
        `InstantPay rejected the credentials (${statuscode}${message}).`,
        details,
      );
    case 'request':
      throw new LinkNotFoundError(linkId, details);
    case 'unknown':
      throw new UpstreamRejectedError(
        `InstantPay answered an unknown statuscode ${excerpt(statuscode)}${message}.`,
        details,
      );
  }
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
