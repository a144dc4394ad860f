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
  /** Create's order id (the envelope's `orderid` equals `data.orderId`); `null` for every other call. */
  orderid?: string | null;
}

/** A body that is present but is not JSON. */
export const UNPARSABLE = Symbol('unparsable body');

export interface UpstreamRequest {
  route: UpstreamRoute;
  headers: IncomingHttpHeaders;
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
  // Documented as a GET with a JSON body, the only form the sandbox takes (POST is not documented).
  if (method === 'GET' && rest === 'list') return { kind: 'list' };
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
export function linkIdOf(request: Pick<UpstreamRequest, 'route' | 'body'>): string | undefined {
  if (request.route.kind === 'track') return request.route.linkId;
  const body = request.body;
  if (body && typeof body === 'object' && 'linkId' in body && typeof body.linkId === 'string')
    return body.linkId;
  if (request.route.kind === 'list') {
    const filters = body && typeof body === 'object' && 'filters' in body ? body.filters : undefined;
    if (filters && typeof filters === 'object' && 'linkId' in filters && typeof filters.linkId === 'string') {
      return filters.linkId;
    }
  }
  return undefined;
}

function answer(statuscode: string, status = statusTextOf(statuscode), data: unknown = null): UpstreamAnswer {
  return { statuscode, status, data };
}

/**
 * A request the sandbox refuses answers `RPI` with its published text (not documented: no error
 * sample exists for any payout-link call; the sandbox never makes up a text of its own).
 */
const invalidParameters = () => answer('RPI');

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
      // An unknown id: ITI, "Invalid Transaction ID" (not documented; the tracker reads it as "not found").
      return view ? answer('TXN', statusTextOf('TXN'), view) : answer('ITI');
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
      // Not documented: an unknown id is ITI (as on Track); a link whose status refuses the call is RPI.
      if (!result.ok) return result.unknownLink ? answer('ITI') : invalidParameters();
      return route.kind === 'cancel'
        ? answer('TXN', 'Link Cancelled Successfully')
        : answer('TXN', result.message ?? 'Notification Link Sent');
    }
    case 'list': {
      const query = listQueryOf(request.body);
      // The answer of the secondary copy: "Transaction Successful" with `data.meta` and `data.records`.
      return query ? answer('TXN', statusTextOf('TXN'), deps.links.list(query)) : invalidParameters();
    }
  }
}

const linkIdBody = z.object({ linkId: z.string().min(1) });

const istTime = z.string().refine((text) => parseIst(text) !== undefined, 'a time is YYYY-MM-DD HH:mm:ss');
/** A boolean, or its text: the newer crawl types `verifyBene` boolean, the older one String. */
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((text) => text === 'true')]);

/** `purpose`'s six documented values, the page's spelling (`Comission`); matched in any case (not documented). */
const PURPOSES = ['refund', 'cashback', 'comission', 'incentive', 'payout', 'greeting'];
const PAYMENT_MODES = ['ACCOUNT', 'VPA', 'AMAZON', 'CREDITCARD'] as const;

/**
 * Create's request table (PAYOUT-LINK-ENDPOINTS.md section 2.1): `verifyBene`, `amount`, `purpose`,
 * `description`, `activatedAt`, `expiredAt` and `paymentModes` mandatory; the contact's name,
 * mobile and e-mail mandatory when `verifyBene` is true. Date-times are `YYYY-MM-DD HH:mm:ss` IST
 * and `amount` a string with at most two decimals (neither is documented).
 */
const createBody = z
  .object({
    amount: z
      .string()
      .regex(/^\d+(\.\d{1,2})?$/, 'amount is a string such as "120.11"')
      .refine((text) => Number(text) > 0, 'amount must be positive'),
    purpose: z.string().refine((text) => PURPOSES.includes(text.toLowerCase()), 'purpose is one of six'),
    description: z.string().min(1),
    referenceNo: z.string().optional(),
    verifyBene: flag,
    contactDetails: z
      .object({
        name: z.string().min(1).optional(),
        mobile: z
          .string()
          .regex(/^\+?\d{10,13}$/)
          .optional(),
        email: z.email().optional(),
      })
      .optional(),
    paymentModes: z.array(z.enum(PAYMENT_MODES)).min(1),
    activatedAt: istTime,
    expiredAt: istTime,
    sendAlert: flag.optional(),
  })
  .superRefine((body, context) => {
    if (!body.verifyBene) return;
    for (const field of ['name', 'mobile', 'email'] as const) {
      if (body.contactDetails?.[field] === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['contactDetails', field],
          message: 'is mandatory when verifyBene is true',
        });
      }
    }
  });

function create(body: unknown, links: SandboxLinks, nowMs: number): UpstreamAnswer {
  const parsed = createBody.safeParse(body);
  if (!parsed.success) return invalidParameters();
  const input = parsed.data;
  const activatedAt = parseIst(input.activatedAt) as number;
  const expiresAt = parseIst(input.expiredAt) as number;
  // Not documented: an expiry that is not after now and after the activation is refused.
  if (expiresAt <= nowMs || expiresAt <= activatedAt) return invalidParameters();
  const contact: ContactDetails | undefined = input.contactDetails && { ...input.contactDetails };
  const data = links.createFromUpstream({
    amount: Number(input.amount),
    purpose: input.purpose,
    description: input.description,
    ...(input.referenceNo === undefined ? {} : { referenceNo: input.referenceNo }),
    contact,
    verifyBene: input.verifyBene,
    alerts: input.sendAlert ?? true,
    paymentModes: input.paymentModes,
    activatedAt,
    expiresAt,
  });
  return { ...answer('TXN', 'Link Created Successfully', data), orderid: String(data.orderId) };
}

/** Not documented: the largest page the sandbox serves; a larger `recordsPerPage` is refused (RPI). */
export const MAX_RECORDS_PER_PAGE = 100;
/** Not documented: the page size without `pagination`, the sample's `"10"`. */
const DEFAULT_RECORDS_PER_PAGE = 10;

const LINK_STATUSES = ['ISSUED', 'CLAIMED', 'CANCELLED', 'PROCESSING', 'EXPIRED'] as const;
/** An empty text filter is no filter (the page's sample sends placeholder text, never an empty one). */
const filterText = z
  .string()
  .optional()
  .transform((text) => (text === '' ? undefined : text));
/** A page number or size: a string of digits, as the sample sends them (`"1"`, `"10"`). */
const pageText = z
  .string()
  .regex(/^\d{1,9}$/)
  .transform(Number)
  .pipe(z.int().min(1))
  .optional();

/**
 * List's request body (section 4.1): `filters.status` an array of the five documented statuses (a
 * bare string is refused: the only concrete form is the sample's array; several are "any of"),
 * `pagination` numbers as strings. Every field is optional.
 */
const listBody = z.object({
  filters: z
    .object({
      status: z.array(z.enum(LINK_STATUSES)).min(1).optional(),
      contact: filterText,
      linkId: filterText,
    })
    .optional(),
  pagination: z.object({ pageNumber: pageText, recordsPerPage: pageText }).optional(),
});

/** Filters and pagination from the JSON body; `undefined` when it is not what the page documents. */
function listQueryOf(body: unknown): ListQuery | undefined {
  if (body === UNPARSABLE) return undefined;
  const parsed = listBody.safeParse(body ?? {});
  if (!parsed.success) return undefined;
  const { filters, pagination } = parsed.data;
  const recordsPerPage = pagination?.recordsPerPage ?? DEFAULT_RECORDS_PER_PAGE;
  if (recordsPerPage > MAX_RECORDS_PER_PAGE) return undefined;
  return {
    ...(filters?.status ? { statuses: filters.status } : {}),
    ...(filters?.linkId === undefined ? {} : { linkId: filters.linkId }),
    ...(filters?.contact === undefined ? {} : { contact: filters.contact }),
    pageNumber: pagination?.pageNumber ?? 1,
    recordsPerPage,
  };
}
