import type { IncomingHttpHeaders } from 'node:http';
import * as z from 'zod';
import { parseIst } from '#shared/instantpay/ist-time.ts';
import { statusTextOf } from './envelope.ts';
import type { ContactDetails, ListQuery, SandboxLinks } from './links.ts';

/** What the upstream endpoints accept in the four `X-Ipay-*` headers. */
export interface SandboxCredentials {
  clientId: string;
  clientSecret: string;
  /** When set, `X-Ipay-Endpoint-Ip` must equal it; otherwise any non-empty value is accepted. */
  endpointIp?: string;
}

export type UpstreamRoute =
  | { kind: 'track'; linkId: string }
  | { kind: 'create' }
  | { kind: 'cancel' }
  | { kind: 'notify' }
  | { kind: 'list' };

/** The envelope fields that depend on the call; the rest is filled in by `envelope()`. */
export interface UpstreamAnswer {
  statuscode: string;
  status: string;
  data: unknown;
}

/** A body that is present but is not JSON. */
export const UNPARSABLE = Symbol('unparsable body');

export interface UpstreamRequest {
  route: UpstreamRoute;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  /** Parsed JSON body; `undefined` when empty; {@link UNPARSABLE} when not JSON. */
  body: unknown;
}

const PREFIX = '/payments/payout/link/';

/** Maps method and path to one of the five payout-link calls; `undefined` for anything else. */
export function matchUpstreamRoute(method: string, pathname: string): UpstreamRoute | undefined {
  if (!pathname.startsWith(PREFIX)) return undefined;
  const rest = pathname.slice(PREFIX.length);
  if (method === 'GET' && rest.startsWith('track/') && !rest.slice('track/'.length).includes('/')) {
    return { kind: 'track', linkId: decodeSegment(rest.slice('track/'.length)) };
  }
  if (method === 'POST' && rest === 'create') return { kind: 'create' };
  if (method === 'POST' && rest === 'cancel') return { kind: 'cancel' };
  if (method === 'POST' && rest === 'notify') return { kind: 'notify' };
  // The provider documents List as a GET with a JSON body; a POST is accepted too, for clients that cannot.
  if ((method === 'GET' || method === 'POST') && rest === 'list') return { kind: 'list' };
  return undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value.join(', ') : (value ?? '')).trim();
}

function credentialsAccepted(headers: IncomingHttpHeaders, credentials: SandboxCredentials): boolean {
  const endpointIp = header(headers, 'x-ipay-endpoint-ip');
  return (
    header(headers, 'x-ipay-auth-code') === '1' &&
    header(headers, 'x-ipay-client-id') === credentials.clientId &&
    header(headers, 'x-ipay-client-secret') === credentials.clientSecret &&
    endpointIp !== '' &&
    (credentials.endpointIp === undefined || endpointIp === credentials.endpointIp)
  );
}

/** The link a request is about, for faults limited to one link. */
export function linkIdOf(request: Pick<UpstreamRequest, 'route' | 'body' | 'query'>): string | undefined {
  if (request.route.kind === 'track') return request.route.linkId;
  const body = request.body;
  if (body && typeof body === 'object' && 'linkId' in body && typeof body.linkId === 'string')
    return body.linkId;
  if (request.route.kind === 'list') {
    const filters = body && typeof body === 'object' && 'filters' in body ? body.filters : undefined;
    if (filters && typeof filters === 'object' && 'linkId' in filters && typeof filters.linkId === 'string') {
      return filters.linkId;
    }
    return request.query.get('linkId') ?? undefined;
  }
  return undefined;
}

function answer(statuscode: string, status = statusTextOf(statuscode), data: unknown = null): UpstreamAnswer {
  return { statuscode, status, data };
}

const invalidParameters = (status = statusTextOf('RPI')) => answer('RPI', status);

/** Answers one of the five calls, credentials included, as InstantPay would at `nowMs`. */
export function answerUpstream(
  request: UpstreamRequest,
  deps: { links: SandboxLinks; credentials: SandboxCredentials; nowMs: number },
): UpstreamAnswer {
  if (!credentialsAccepted(request.headers, deps.credentials)) return answer('IAC');
  const { route } = request;
  switch (route.kind) {
    case 'track': {
      const view = deps.links.track(route.linkId);
      return view ? answer('TXN', 'Transaction Successful', view) : answer('ITI', 'Invalid link id');
    }
    case 'create':
      return create(request.body, deps.links, deps.nowMs);
    case 'cancel':
    case 'notify': {
      const parsed = linkIdBody.safeParse(request.body);
      if (!parsed.success) return invalidParameters();
      const result =
        route.kind === 'cancel'
          ? deps.links.cancel(parsed.data.linkId)
          : deps.links.notify(parsed.data.linkId);
      if (!result.ok) return invalidParameters(result.reason);
      return route.kind === 'cancel'
        ? answer('TXN', 'Link Cancelled Successfully')
        : answer('TXN', 'Notification Sent Successfully');
    }
    case 'list': {
      const query = listQueryOf(request.body, request.query);
      return query ? answer('TXN', 'Transaction Successful', deps.links.list(query)) : invalidParameters();
    }
  }
}

const linkIdBody = z.object({ linkId: z.string().min(1) });

const istTime = z.string().refine((text) => parseIst(text) !== undefined, 'a time is YYYY-MM-DD HH:mm:ss');
// Neither flag's type is documented: take booleans and the usual spellings.
const flag = z.union([z.boolean(), z.string(), z.number()]).transform((value) => {
  const text = String(value).trim().toLowerCase();
  return !['false', 'n', 'no', '0', ''].includes(text);
});

const createBody = z.object({
  amount: z
    .string()
    .regex(/^\d+(\.\d{1,2})?$/, 'amount is a string such as "120.11"')
    .refine((text) => Number(text) > 0, 'amount must be positive'),
  purpose: z.string().optional(),
  description: z.string().optional(),
  referenceNo: z.string().optional(),
  verifyBene: flag.optional(),
  contactDetails: z
    .object({
      name: z.string().optional(),
      mobile: z
        .string()
        .regex(/^\+?\d{10,13}$/)
        .optional(),
      email: z.email().optional(),
    })
    .optional(),
  paymentModes: z.array(z.enum(['ACCOUNT', 'VPA', 'AMAZON', 'CREDITCARD'])).optional(),
  activatedAt: istTime.optional(),
  expiredAt: istTime.optional(),
  sendAlert: flag.optional(),
});

function create(body: unknown, links: SandboxLinks, nowMs: number): UpstreamAnswer {
  const parsed = createBody.safeParse(body);
  if (!parsed.success) return invalidParameters();
  const input = parsed.data;
  const activatedAt = input.activatedAt === undefined ? undefined : parseIst(input.activatedAt);
  const expiresAt = input.expiredAt === undefined ? undefined : parseIst(input.expiredAt);
  if (
    expiresAt !== undefined &&
    (expiresAt <= nowMs || (activatedAt !== undefined && expiresAt <= activatedAt))
  ) {
    return invalidParameters('expiredAt must be later than now and than activatedAt');
  }
  const contact: ContactDetails | undefined = input.contactDetails && { ...input.contactDetails };
  const data = links.createFromUpstream({
    amount: Number(input.amount),
    purpose: input.purpose,
    description: input.description,
    referenceNo: input.referenceNo,
    contact,
    alerts: input.sendAlert ?? true,
    paymentModes: input.paymentModes ?? ['ACCOUNT'],
    activatedAt,
    expiresAt,
  });
  return answer('TXN', 'Link Created Successfully', data);
}

const MAX_RECORDS_PER_PAGE = 100;
const DEFAULT_RECORDS_PER_PAGE = 10;

const filterText = z
  .string()
  .optional()
  .transform((text) => (text === '' ? undefined : text));
const pageInt = z
  .union([z.int(), z.string().regex(/^\d+$/).transform(Number)])
  .pipe(z.int().min(1))
  .optional();

const listBody = z.object({
  status: filterText,
  linkId: filterText,
  contact: filterText,
  pageNumber: pageInt,
  recordsPerPage: pageInt,
  filters: z.object({ status: filterText, linkId: filterText, contact: filterText }).optional(),
  pagination: z.object({ pageNumber: pageInt, recordsPerPage: pageInt }).optional(),
});

/** Filters and pagination from the nested body, the flat body, then the query string. */
function listQueryOf(body: unknown, query: URLSearchParams): ListQuery | undefined {
  if (body === UNPARSABLE) return undefined;
  const fromQuery = Object.fromEntries(
    ['status', 'linkId', 'contact', 'pageNumber', 'recordsPerPage'].flatMap((name) => {
      const value = query.get(name);
      return value === null ? [] : [[name, value]];
    }),
  );
  const parsedQuery = listBody.safeParse(fromQuery);
  const parsedBody = listBody.safeParse(body ?? {});
  if (!parsedQuery.success || !parsedBody.success) return undefined;
  const q = parsedQuery.data;
  const b = parsedBody.data;
  const recordsPerPage =
    b.pagination?.recordsPerPage ?? b.recordsPerPage ?? q.recordsPerPage ?? DEFAULT_RECORDS_PER_PAGE;
  if (recordsPerPage > MAX_RECORDS_PER_PAGE) return undefined;
  return {
    status: b.filters?.status ?? b.status ?? q.status,
    linkId: b.filters?.linkId ?? b.linkId ?? q.linkId,
    contact: b.filters?.contact ?? b.contact ?? q.contact,
    pageNumber: b.pagination?.pageNumber ?? b.pageNumber ?? q.pageNumber ?? 1,
    recordsPerPage,
  };
}
