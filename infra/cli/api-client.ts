import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Provider } from '@smithy/types';
import type { RegisterLinkBody } from '#shared/http/requests.ts';
import type { LinkView } from '#shared/link/link-view.ts';
import type { ListState } from '#shared/store/link-store.ts';
import type { LinkDeliveries, SubscriberView } from '#shared/webhooks/delivery-admin.ts';

/** An RFC 9457 problem as the API sends it (`application/problem+json`). */
export interface ApiProblem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  linkId?: string;
  errors?: string[];
}

/** The API answered with an error status; the message is one line for the operator. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly problem?: ApiProblem,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** No answer at all: connection refused, DNS, TLS, timeout. */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
}

export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** Returns the headers to send (the given ones plus the signature's). */
export type RequestSigner = (request: OutgoingRequest) => Promise<Record<string, string>>;

/**
 * SigV4 for API Gateway (`execute-api`), as IAM authorization on the HTTP API expects it. `signingDate`
 * is for tests; credentials may be a provider (the standard chain), resolved at the first request.
 */
export function sigV4Signer(options: {
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  region: string | Provider<string>;
  signingDate?: Date;
}): RequestSigner {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const request = new HttpRequest({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      ...(body === undefined ? {} : { body }),
    });
    const signed = await signer.sign(
      request,
      options.signingDate ? { signingDate: options.signingDate } : undefined,
    );
    // fetch sets Host itself (to the same value); it refuses to be given one.
    const { host: _host, ...sendable } = signed.headers;
    return sendable;
  };
}

export interface EventsPage {
  linkId: string;
  events: Array<
    Record<string, unknown> & {
      detailType: string;
      publishedAt: string | null;
      sequence: number;
      status: string;
      previousStatus: string | null;
      observedAt?: string;
      trigger?: string;
    }
  >;
}

export interface LinksPage {
  links: LinkView[];
  nextCursor: string | null;
}

export interface ApiClient {
  readonly baseUrl: string;
  trackLink(linkId: string, options?: { maxAgeSeconds?: number }): Promise<LinkView>;
  registerLink(body: RegisterLinkBody): Promise<{ created: boolean; link: LinkView }>;
  unwatch(linkId: string): Promise<void>;
  events(linkId: string): Promise<EventsPage>;
  list(options?: {
    state?: ListState;
    status?: string;
    reference?: string;
    limit?: number;
    cursor?: string;
  }): Promise<LinksPage>;
  deliveries(linkId: string): Promise<LinkDeliveries>;
  subscribers(): Promise<{ subscribers: SubscriberView[] }>;
  resend(subscriber: string, eventIds: readonly string[]): Promise<{ queued: number }>;
  enable(subscriber: string): Promise<SubscriberView>;
}

export interface ApiClientOptions {
  /** The API's base URL; any path it has (a stage, a custom domain mapping) is kept as a prefix. */
  baseUrl: string;
  /** Absent: requests go unsigned (the local cloud has no IAM). */
  signer?: RequestSigner;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Added to "could not reach the API" (e.g. "is npm start running?"). */
  unreachableHint?: string;
}

/** The tracker's HTTP API (`../shared/ARCHITECTURE.md`) over fetch, signed or not. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function call(
    method: string,
    segments: string[],
    request: { query?: Record<string, string | number | undefined>; body?: unknown } = {},
  ): Promise<{ status: number; body: unknown }> {
    const url = new URL(base.origin);
    url.pathname = `${prefix}/${segments.map(encodeSegment).join('/')}`;
    const query = Object.entries(request.query ?? {}).filter(
      (entry): entry is [string, string | number] => entry[1] !== undefined,
    );
    url.search = query.map(([key, value]) => `${rfc3986(key)}=${rfc3986(String(value))}`).join('&');
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    if (options.signer) {
      headers = await options.signer({ method, url, headers, ...(body === undefined ? {} : { body }) });
    }
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const hint = options.unreachableHint ? ` ${options.unreachableHint}` : '';
      throw new ApiUnreachableError(
        `Could not reach the API at ${base.origin}: ${fetchFailure(error)}.${hint}`,
        {
          cause: error,
        },
      );
    }
    const parsed = parseJson(text);
    if (response.status >= 400) {
      throw apiError(response, parsed, text, options.signer !== undefined);
    }
    return { status: response.status, body: parsed };
  }

  return {
    baseUrl: options.baseUrl,
    async trackLink(linkId, track = {}) {
      const { body } = await call('GET', ['links', linkId], {
        query: { maxAgeSeconds: track.maxAgeSeconds },
      });
      return body as LinkView;
    },
    async registerLink(link) {
      const { status, body } = await call('POST', ['links'], { body: link });
      return { created: status === 201, link: body as LinkView };
    },
    async unwatch(linkId) {
      await call('DELETE', ['links', linkId]);
    },
    async events(linkId) {
      const { body } = await call('GET', ['links', linkId, 'events']);
      return body as EventsPage;
    },
    async list(page = {}) {
      const { body } = await call('GET', ['links'], {
        query: {
          state: page.state,
          status: page.status,
          reference: page.reference,
          limit: page.limit,
          cursor: page.cursor,
        },
      });
      return body as LinksPage;
    },
    async deliveries(linkId) {
      const { body } = await call('GET', ['links', linkId, 'deliveries']);
      return body as LinkDeliveries;
    },
    async subscribers() {
      const { body } = await call('GET', ['subscribers']);
      return body as { subscribers: SubscriberView[] };
    },
    async resend(subscriber, eventIds) {
      const { body } = await call('POST', ['subscribers', subscriber, 'resend'], { body: { eventIds } });
      return body as { queued: number };
    },
    async enable(subscriber) {
      const { body } = await call('POST', ['subscribers', subscriber, 'enable']);
      return body as SubscriberView;
    },
  };
}

function apiError(response: Response, parsed: unknown, text: string, signed: boolean): ApiError {
  const status = response.status;
  const header = response.headers.get('retry-after');
  const retryAfter = header === null || header.trim() === '' ? Number.NaN : Number(header);
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined;
  const problem = isProblem(parsed) ? parsed : undefined;
  if (problem?.title) {
    const errors = problem.errors?.length ? ` [${problem.errors.join('; ')}]` : '';
    const detail = problem.detail ? `: ${problem.detail}` : '';
    const retry = retryAfterSeconds ? ` (retry after ${retryAfterSeconds} s)` : '';
    return new ApiError(
      `The API refused the request: HTTP ${status} ${problem.title}${detail}${errors}${retry}`,
      status,
      problem,
      retryAfterSeconds,
    );
  }
  // API Gateway's own answers are `{"message": "..."}`, not problems.
  const message = (parsed as { message?: unknown } | undefined)?.message ?? text.slice(0, 200).trim();
  const said = message ? ` (API Gateway said: ${JSON.stringify(String(message))})` : '';
  if (status === 403 && signed) {
    return new ApiError(
      `HTTP 403: the API refused the signed request: check the IAM policy allows execute-api:Invoke on this API and that the credentials are for the right account${said}.`,
      status,
      undefined,
      retryAfterSeconds,
    );
  }
  return new ApiError(
    `The API refused the request: HTTP ${status}${said}`,
    status,
    undefined,
    retryAfterSeconds,
  );
}

function isProblem(value: unknown): value is ApiProblem {
  return typeof value === 'object' && value !== null && typeof (value as ApiProblem).title === 'string';
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function fetchFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'no answer in time';
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}

function encodeSegment(segment: string): string {
  return rfc3986(segment);
}

/** Percent-encoding as SigV4 canonicalizes it, so the URL sent is the URL signed. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
