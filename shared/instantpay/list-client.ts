import { isValidLinkId } from '#shared/link-id.ts';
import {
  envelopeError,
  type InstantPayClientOptions,
  ipayHeaders,
  networkError,
  readEnvelope,
  upstreamSession,
} from './client.ts';
import { UpstreamProtocolError, UpstreamRejectedError } from './errors.ts';
import { type HttpAnswer, keepAliveRequest } from './http-get.ts';
import { ListDataSchema, type ListedLink, ListedLinkSchema, type ListMeta } from './list-schemas.ts';
import { describeIssues } from './schemas.ts';
import { classifyStatusCode } from './status-codes.ts';

export type { ListedLink, ListMeta };

/** One page of InstantPay's List call. */
export interface ListLinksQuery {
  /** Sent as `filters.status`, an array as the page's sample sends it: one status per call is the documented form. */
  statuses: readonly string[];
  /** From 1 (the sample's first page; whether pages start at 1 is not documented). */
  pageNumber: number;
  recordsPerPage: number;
}

export interface LinkListPage {
  /** The records with a link id the tracker accepts, in InstantPay's order, every field kept. */
  links: ListedLink[];
  /** How many records the page held, usable or not: fewer than asked means it was the last page. */
  received: number;
  /** Records without a usable link id (missing, or not `^[A-Za-z0-9_-]{1,64}$`): listed, never tracked. */
  unusable: number;
  /** `data.meta` as InstantPay sent it (secondary source), `null` when absent or unreadable. */
  meta: ListMeta | null;
}

export interface InstantPayListClient {
  /** One page of the merchant's links with the given statuses (the List call). Same headers, timeout, errors and credential refetch as `trackLink`. */
  listLinks(query: ListLinksQuery): Promise<LinkListPage>;
}

/** InstantPay's List call (discovery's), a module of its own so that only the function that lists bundles its parser. */
export function createInstantPayListClient(options: InstantPayClientOptions): InstantPayListClient {
  const session = upstreamSession(options);
  const httpSend = options.httpSend ?? keepAliveRequest;

  async function listOnce(
    query: ListLinksQuery,
    credentials: Parameters<typeof ipayHeaders>[0],
  ): Promise<LinkListPage> {
    let answer: HttpAnswer;
    try {
      answer = await httpSend(
        {
          // Documented as a GET with a JSON body; whether POST or a query string work is not documented.
          method: 'GET',
          url: `${session.baseUrlOf(credentials)}/payments/payout/link/list`,
          headers: { ...ipayHeaders(credentials), 'Content-Type': 'application/json' },
          body: JSON.stringify(listRequestBody(query)),
        },
        session.timeoutMs,
      );
    } catch (error) {
      throw networkError(error, session.timeoutMs);
    }
    return parseListResponse(answer.status, answer.retryAfter, answer.text, session.clock.now());
  }

  return {
    async listLinks(query) {
      listRequestBody(query);
      return session.withCredentials((credentials) => listOnce(query, credentials));
    },
  };
}

/**
 * The List request body as the page's sample writes it: `filters.status` an array, the page number
 * and size as strings. Throws a `RangeError` for a query no caller should build.
 */
export function listRequestBody(query: ListLinksQuery) {
  if (query.statuses.length === 0) throw new RangeError('listLinks needs at least one status');
  if (!Number.isInteger(query.pageNumber) || query.pageNumber < 1)
    throw new RangeError('pageNumber must be an integer from 1');
  if (!Number.isInteger(query.recordsPerPage) || query.recordsPerPage < 1)
    throw new RangeError('recordsPerPage must be a positive integer');
  return {
    filters: { status: [...query.statuses] },
    pagination: { pageNumber: String(query.pageNumber), recordsPerPage: String(query.recordsPerPage) },
  };
}

/**
 * Turns a List answer into a page or a typed error. A `TXN` with no `data` (or `data: null`) is an
 * empty page (not documented: the envelope's `data` is "Response Data (if Present)"). Exported for
 * the fuzz tests.
 */
export function parseListResponse(
  httpStatus: number,
  retryAfterHeader: string | null,
  text: string,
  nowMs: number,
): LinkListPage {
  const envelope = readEnvelope(httpStatus, retryAfterHeader, text, nowMs);
  if (classifyStatusCode(envelope.statuscode) !== 'success') {
    // No link is named on a List call: "not known" means nothing the tracker can act on.
    throw envelopeError(
      envelope,
      httpStatus,
      'List',
      (details) =>
        new UpstreamRejectedError(`InstantPay answered the List call with ${details.statuscode}.`, details),
    );
  }
  if (envelope.data === undefined || envelope.data === null) {
    return { links: [], received: 0, unusable: 0, meta: null };
  }
  const data = ListDataSchema.safeParse(envelope.data);
  if (!data.success) {
    throw new UpstreamProtocolError(
      'InstantPay answered TXN to List with an unexpected data shape.',
      describeIssues(data.error),
      { statuscode: envelope.statuscode, httpStatus },
    );
  }
  const links: ListedLink[] = [];
  let unusable = 0;
  for (const record of data.data.records) {
    const parsed = ListedLinkSchema.safeParse(record);
    if (parsed.success && isValidLinkId(parsed.data.linkId)) links.push(parsed.data);
    else unusable++;
  }
  return { links, received: data.data.records.length, unusable, meta: data.data.meta ?? null };
}
