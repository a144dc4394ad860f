import { randomBytes, randomInt } from 'node:crypto';
import * as z from 'zod';
import type { Clock } from '#shared/clock.ts';
import { formatIst } from '#shared/instantpay/ist-time.ts';
import { parseControlInput, SandboxConflictError } from './errors.ts';

/** One scripted step of a link's life: from `afterMs` after creation, the link has `status`. */
export interface TimelineStep {
  afterMs: number;
  status: string;
  /** The `linkActivity` entries this step adds; generated for the status when absent. */
  activity?: Array<Record<string, unknown>>;
}

export type ActivityEntry = Record<string, unknown>;

export interface ContactDetails {
  name?: string;
  mobile?: string;
  email?: string;
}

/** What Track Link answers in `data`. */
export interface LinkView {
  status: string;
  amount: number;
  linkActivity: ActivityEntry[];
}

/**
 * `CLAIMED`, `CANCELLED` and `EXPIRED` never change (INSTANTPAY.md, "Link status"). InstantPay's rule,
 * not the tracker's `isFinal`: the sandbox stands in for the upstream, which a change to the core must not move.
 */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['CLAIMED', 'CANCELLED', 'EXPIRED']);

const DAY_MS = 24 * 60 * 60 * 1000;
const LINK_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const timelineStepSchema = z.strictObject({
  afterMs: z.int().min(0),
  status: z.string().min(1),
  activity: z.array(z.record(z.string(), z.unknown())).optional(),
});

const timelineSchema = z.array(timelineStepSchema).min(1, 'a timeline needs at least one step');

/** Body of `POST /sandbox/links` and input of `Sandbox.createLink`. */
const scriptedLinkSchema = z.strictObject({
  linkId: z.string().regex(LINK_ID_PATTERN, 'a linkId is 1 to 64 of A-Z a-z 0-9 _ -').optional(),
  amount: z.number().positive(),
  timeline: timelineSchema,
  /** The merchant's reference, as Create's `referenceNo` (List shows `NA` when none). */
  referenceNo: z.string().min(1).max(128).optional(),
});

export type ScriptedLinkInput = z.input<typeof scriptedLinkSchema>;

/**
 * The life InstantPay gives a link created through the upstream API: issued (and notified), a
 * claim in progress after a minute, claimed half a minute later.
 */
const DEFAULT_TIMELINE: readonly TimelineStep[] = [
  { afterMs: 0, status: 'ISSUED' },
  { afterMs: 60_000, status: 'PROCESSING' },
  { afterMs: 90_000, status: 'CLAIMED' },
];

/** Contact details given to scripted links, so their default activity carries personal data to mask. */
const SCRIPTED_CONTACT: Readonly<ContactDetails> = {
  name: 'Sandbox Beneficiary',
  mobile: '9876543210',
  email: 'beneficiary@example.com',
};

const DEFAULT_IFSC = 'YESB0CMSNOC';

/**
 * A scripted link expires this long after its creation unless its timeline ends it first: every
 * InstantPay link has an `expiredAt`, and List shows it (not documented for the sandbox's own links).
 */
const SCRIPTED_EXPIRY_MS = 30 * DAY_MS;

/** What Create's documented fields hold for a scripted link, which `POST /sandbox/links` does not set. */
const SCRIPTED_DETAILS = {
  purpose: 'payout',
  description: 'Sandbox scripted link',
  verifyBene: false,
  paymentModes: ['ACCOUNT', 'VPA'],
} as const;

/** `referenceNo` when none was given: "By default, it will be NA" (Create's request table). */
const NO_REFERENCE = 'NA';

interface Account {
  accountType: string;
  accountNumber: string;
  accountIfsc: string;
}

interface MaterializedStep {
  at: number;
  status: string;
  activity: ActivityEntry[];
}

/** Something that happened to a link through the upstream API (cancel, notify), at a time. */
interface RuntimeEvent {
  at: number;
  cancels: boolean;
  activity: ActivityEntry[];
}

interface LinkRecord {
  linkId: string;
  amount: number;
  createdAt: number;
  steps: MaterializedStep[];
  /** The link becomes `EXPIRED` at this instant unless it is final by then. */
  expiresAt: number | undefined;
  /** The sample link: shown as its whole timeline has played, whatever the clock says. */
  frozen: boolean;
  /** Kept across `reset()`. */
  permanent: boolean;
  contact: ContactDetails | undefined;
  alerts: boolean;
  orderId: string;
  referenceNo: string;
  /** Lower case, as the secondary Create sample echoes it. */
  purpose: string;
  description: string;
  verifyBene: boolean;
  paymentModes: string[];
  activatedAt: string;
  events: RuntimeEvent[];
}

/** A link created through `POST /payments/payout/link/create`, already validated. */
export interface UpstreamCreateParams {
  amount: number;
  purpose?: string;
  description?: string;
  referenceNo?: string;
  contact?: ContactDetails;
  verifyBene?: boolean;
  alerts: boolean;
  paymentModes: string[];
  activatedAt?: number;
  expiresAt?: number;
}

export interface ListQuery {
  /** Any of these (the documented filter is an array); every status when absent. */
  statuses?: readonly string[];
  linkId?: string;
  contact?: string;
  pageNumber: number;
  recordsPerPage: number;
}

/** `data.meta` of a List answer, with the fields of the secondary copy (section 4.3). */
export interface ListMeta {
  totalPages: number;
  currentPage: number;
  totalRecords: number;
  recordsOnCurrentPage: number;
  recordFrom: number;
  recordTo: number;
}

/** What only the sandbox itself sets on a scripted link (the sample link). */
export interface ScriptedLinkOptions {
  /** Kept across `reset()`. */
  permanent?: boolean;
  /** Shown as its whole timeline has played, whatever the clock says. */
  frozen?: boolean;
  createdAt?: number;
  contact?: ContactDetails;
  orderId?: string;
}

/** A cancel or notify: done (with what to tell the caller), or refused for an unknown link or its status. */
export type LinkActionResult =
  | { ok: true; message?: string }
  | { ok: false; unknownLink: boolean; reason: string };

export interface SandboxLinksOptions {
  clock: Clock;
  /** Timeline of links created through the upstream API; {@link DEFAULT_TIMELINE} when absent. */
  defaultTimeline?: readonly TimelineStep[];
  /** Base of the `url` a created link answers with. */
  linkUrlBase?: () => string;
}

/** Every link the sandbox knows, with its scripted lifecycle evaluated against the clock on demand. */
export class SandboxLinks {
  private readonly links = new Map<string, LinkRecord>();
  private readonly clock: Clock;
  private readonly defaultTimeline: TimelineStep[];
  private readonly linkUrlBase: () => string;

  constructor(options: SandboxLinksOptions) {
    this.clock = options.clock;
    this.defaultTimeline = parseControlInput(
      timelineSchema,
      jsonCopy(options.defaultTimeline ?? DEFAULT_TIMELINE),
      'default timeline',
    );
    this.linkUrlBase = options.linkUrlBase ?? (() => 'http://127.0.0.1');
  }

  /** Validates and stores a scripted link (`POST /sandbox/links`); answers its id. */
  createScripted(input: unknown, options: ScriptedLinkOptions = {}): string {
    const parsed = parseControlInput(scriptedLinkSchema, jsonCopy(input), 'scripted link');
    if (parsed.linkId !== undefined && this.links.has(parsed.linkId)) {
      throw new SandboxConflictError(`A link with id ${parsed.linkId} already exists`);
    }
    const linkId = parsed.linkId ?? this.freshLinkId();
    const createdAt = options.createdAt ?? this.clock.now();
    const account = randomAccount();
    const contact = { ...(options.contact ?? SCRIPTED_CONTACT) };
    this.links.set(linkId, {
      linkId,
      amount: parsed.amount,
      createdAt,
      steps: materialize(createdAt, parsed.timeline, { contact, alerts: true, account }),
      expiresAt: createdAt + SCRIPTED_EXPIRY_MS,
      frozen: options.frozen ?? false,
      permanent: options.permanent ?? false,
      contact,
      alerts: true,
      orderId: options.orderId ?? orderIdAt(createdAt),
      referenceNo: parsed.referenceNo ?? NO_REFERENCE,
      ...SCRIPTED_DETAILS,
      paymentModes: [...SCRIPTED_DETAILS.paymentModes],
      activatedAt: formatIst(createdAt),
      events: [],
    });
    return linkId;
  }

  /** Stores a link created through the upstream API; answers the `data` of the create response. */
  createFromUpstream(params: UpstreamCreateParams): Record<string, unknown> {
    const linkId = this.freshLinkId();
    const createdAt = this.clock.now();
    const account = randomAccount();
    const expiresAt = params.expiresAt ?? createdAt + DAY_MS;
    const record: LinkRecord = {
      linkId,
      amount: params.amount,
      createdAt,
      steps: materialize(createdAt, this.defaultTimeline, {
        contact: params.contact,
        alerts: params.alerts,
        account,
      }),
      expiresAt,
      frozen: false,
      permanent: false,
      contact: params.contact,
      alerts: params.alerts,
      orderId: orderIdAt(createdAt),
      referenceNo: params.referenceNo || NO_REFERENCE,
      purpose: (params.purpose ?? SCRIPTED_DETAILS.purpose).toLowerCase(),
      description: params.description ?? SCRIPTED_DETAILS.description,
      verifyBene: params.verifyBene ?? false,
      paymentModes: params.paymentModes,
      activatedAt: formatIst(params.activatedAt ?? createdAt),
      events: [],
    };
    this.links.set(linkId, record);
    const view = this.view(record);
    // The keys of the secondary Create sample (PAYOUT-LINK-ENDPOINTS.md section 2.3), in its order.
    return {
      linkId,
      url: this.urlOf(record.linkId),
      status: view?.status ?? 'ISSUED',
      contactDetails: contactDetailsOf(record.contact),
      amount: record.amount,
      purpose: record.purpose,
      description: record.description,
      referenceNo: record.referenceNo,
      verifyBene: record.verifyBene,
      paymentModes: record.paymentModes,
      orderId: record.orderId,
      activatedAt: record.activatedAt,
      expiredAt: formatIst(expiresAt),
    };
  }

  has(linkId: string): boolean {
    return this.links.has(linkId);
  }

  /** What Track Link shows now; `undefined` for an unknown link or one whose first step is still ahead. */
  track(linkId: string): LinkView | undefined {
    const record = this.links.get(linkId);
    return record && this.view(record);
  }

  /** Cancels a link, which InstantPay allows only while it is unprocessed (`ISSUED`). */
  cancel(linkId: string): LinkActionResult {
    const record = this.links.get(linkId);
    const view = record && this.view(record);
    if (!record || !view) return { ok: false, unknownLink: true, reason: 'Invalid link id' };
    if (view.status !== 'ISSUED')
      return { ok: false, unknownLink: false, reason: `Link cannot be cancelled in status ${view.status}` };
    const at = this.clock.now();
    record.events.push({
      at,
      cancels: true,
      activity: [{ status: 'Payout link cancelled', activityAt: formatIst(at) }],
    });
    return { ok: true };
  }

  /** Resends the notification of a link that is not final yet. */
  notify(linkId: string): LinkActionResult {
    const record = this.links.get(linkId);
    const view = record && this.view(record);
    if (!record || !view) return { ok: false, unknownLink: true, reason: 'Invalid link id' };
    if (FINAL_STATUSES.has(view.status)) {
      return { ok: false, unknownLink: false, reason: `Link cannot be notified in status ${view.status}` };
    }
    const at = this.clock.now();
    const text = notificationText(record.contact);
    record.events.push({
      at,
      cancels: false,
      activity: text ? [{ status: text, activityAt: formatIst(at) }] : [],
    });
    return { ok: true, message: notifyAnswerText(record.contact) };
  }

  /**
   * `data` of List: the matching links newest first (the sort order is not documented), one page,
   * with the `meta` and record fields of the secondary copy (PAYOUT-LINK-ENDPOINTS.md section 4.3). A
   * page past the last is empty.
   */
  list(query: ListQuery): { meta: ListMeta; records: Array<Record<string, unknown>> } {
    const contact = query.contact?.toLowerCase();
    const statuses = query.statuses && new Set(query.statuses);
    const matching: LinkRecord[] = [];
    const views = new Map<LinkRecord, LinkView>();
    // Newest first; links created in the same millisecond keep the order they were created in, reversed.
    const newestFirst = [...this.links.values()].reverse().sort((a, b) => b.createdAt - a.createdAt);
    for (const record of newestFirst) {
      const view = this.view(record);
      if (!view) continue;
      if (query.linkId !== undefined && record.linkId !== query.linkId) continue;
      if (statuses !== undefined && !statuses.has(view.status)) continue;
      if (contact !== undefined && !contactMatches(record.contact, contact)) continue;
      matching.push(record);
      views.set(record, view);
    }
    const start = (query.pageNumber - 1) * query.recordsPerPage;
    const page = matching.slice(start, start + query.recordsPerPage);
    return {
      meta: {
        totalPages: Math.ceil(matching.length / query.recordsPerPage),
        currentPage: query.pageNumber,
        totalRecords: matching.length,
        recordsOnCurrentPage: page.length,
        recordFrom: page.length === 0 ? 0 : start + 1,
        recordTo: page.length === 0 ? 0 : start + page.length,
      },
      records: page.map((record) => this.listRecord(record, views.get(record)!)),
    };
  }

  /** One of `data.records[]`: the secondary copy's keys, in its order. */
  private listRecord(record: LinkRecord, view: LinkView): Record<string, unknown> {
    return {
      amount: record.amount,
      purpose: record.purpose,
      description: record.description,
      status: view.status,
      linkId: record.linkId,
      contactDetails: contactDetailsOf(record.contact),
      referenceNo: record.referenceNo,
      orderId: record.orderId,
      url: this.urlOf(record.linkId),
      qrUrl: `${this.linkUrlBase()}/payment/payout/link/qr/${record.linkId}`,
      paymentModes: [...record.paymentModes],
      verifyBene: record.verifyBene,
      activatedAt: record.activatedAt,
      expiredAt: record.expiresAt === undefined ? null : formatIst(record.expiresAt),
    };
  }

  /** Forgets every link but the permanent ones (the sample link). */
  reset(): void {
    for (const [linkId, record] of this.links) {
      if (!record.permanent) this.links.delete(linkId);
    }
  }

  private view(record: LinkRecord): LinkView | undefined {
    const now = record.frozen ? Number.POSITIVE_INFINITY : this.clock.now();
    return evaluate(record, now);
  }

  private freshLinkId(): string {
    for (;;) {
      const linkId = randomBytes(12).toString('hex');
      if (!this.links.has(linkId)) return linkId;
    }
  }

  private urlOf(linkId: string): string {
    return `${this.linkUrlBase()}/payout-link/${linkId}`;
  }
}

/**
 * Plays a link's life up to `now`: scripted steps in order; expiry at `expiresAt` unless the link is
 * final by then; cancel and notify calls when they happened. After a cancel or an expiry, no later
 * step happens.
 */
function evaluate(record: LinkRecord, now: number): LinkView | undefined {
  const first = record.steps[0];
  if (!first || first.at > now) return undefined;
  type Event =
    | { at: number; rank: 0; step: MaterializedStep }
    | { at: number; rank: 1; expiry: true }
    | { at: number; rank: 2; event: RuntimeEvent };
  const events: Event[] = [
    ...record.steps.map((step) => ({ at: step.at, rank: 0 as const, step })),
    ...(record.expiresAt === undefined
      ? []
      : [{ at: record.expiresAt, rank: 1 as const, expiry: true as const }]),
    ...record.events.map((event) => ({ at: event.at, rank: 2 as const, event })),
  ];
  // Stable: steps keep their order, runtime events the order they were made in.
  events.sort((a, b) => a.at - b.at || a.rank - b.rank);

  let status = first.status;
  const linkActivity: ActivityEntry[] = [];
  let ended = false;
  for (const event of events) {
    if (event.at > now) break;
    if ('step' in event) {
      if (ended) continue;
      status = event.step.status;
      linkActivity.push(...event.step.activity.map(jsonCopy));
    } else if ('expiry' in event) {
      if (ended || FINAL_STATUSES.has(status)) continue;
      status = 'EXPIRED';
      ended = true;
      linkActivity.push({ status: 'Payout link expired', activityAt: formatIst(event.at) });
    } else {
      if (event.event.cancels) {
        status = 'CANCELLED';
        ended = true;
      }
      linkActivity.push(...event.event.activity.map(jsonCopy));
    }
  }
  return { status, amount: record.amount, linkActivity };
}

interface ActivityContext {
  contact: ContactDetails | undefined;
  alerts: boolean;
  account: Account;
}

function materialize(createdAt: number, timeline: readonly TimelineStep[], context: ActivityContext) {
  // Array.prototype.sort is stable: steps with the same afterMs keep the order they were given in.
  const sorted = [...timeline].sort((a, b) => a.afterMs - b.afterMs);
  let previous: string | undefined;
  return sorted.map((step): MaterializedStep => {
    const at = createdAt + step.afterMs;
    const activityAt = formatIst(at);
    const activity = step.activity
      ? step.activity.map((entry) => withActivityAt(entry, activityAt))
      : defaultActivity(step.status, previous, at, context);
    previous = step.status;
    return { at, status: step.status, activity };
  });
}

/** Keeps a given `activityAt`; otherwise puts the step's time right after `status`, as InstantPay orders them. */
function withActivityAt(entry: ActivityEntry, activityAt: string): ActivityEntry {
  if ('activityAt' in entry) return jsonCopy(entry);
  const { status, ...rest } = jsonCopy(entry);
  return 'status' in entry ? { status, activityAt, ...rest } : { activityAt, ...rest };
}

function defaultActivity(
  status: string,
  previous: string | undefined,
  at: number,
  context: ActivityContext,
): ActivityEntry[] {
  const activityAt = formatIst(at);
  const claimFields = () => ({ orderId: orderIdAt(at), ...context.account });
  switch (status) {
    case 'ISSUED': {
      if (previous === undefined) {
        const notification = context.alerts ? notificationText(context.contact) : undefined;
        return [
          { status: 'Payout link created', activityAt },
          ...(notification ? [{ status: notification, activityAt }] : []),
        ];
      }
      if (previous === 'PROCESSING') {
        return [{ status: 'Beneficiary verification failed', activityAt, ...claimFields() }];
      }
      return [{ status: 'Status changed to ISSUED', activityAt }];
    }
    case 'PROCESSING':
      return [{ status: 'Beneficiary verification successful', activityAt, ...claimFields() }];
    case 'CLAIMED':
      return [{ status: 'Link Claimed successfully', activityAt, ...claimFields() }];
    case 'CANCELLED':
      return [{ status: 'Payout link cancelled', activityAt }];
    case 'EXPIRED':
      return [{ status: 'Payout link expired', activityAt }];
    default:
      return [{ status: `Status changed to ${status}`, activityAt }];
  }
}

function notificationText(contact: ContactDetails | undefined): string | undefined {
  const targets = [contact?.mobile, contact?.email].filter((value): value is string => !!value);
  return targets.length > 0 ? `Payout link notification sent to ${targets.join(' and ')}` : undefined;
}

/** Notify's answer text, shaped like the page's sample `Notification Link Sent To *******742 and ******@instantpay.in`. */
function notifyAnswerText(contact: ContactDetails | undefined): string {
  const targets = [
    contact?.mobile && maskKeepingLast(contact.mobile, 3),
    contact?.email && maskEmailLocalPart(contact.email),
  ].filter((value): value is string => !!value);
  return targets.length > 0 ? `Notification Link Sent To ${targets.join(' and ')}` : 'Notification Link Sent';
}

function maskKeepingLast(text: string, keep: number): string {
  return '*'.repeat(Math.max(0, text.length - keep)) + text.slice(-keep);
}

function maskEmailLocalPart(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0 ? '*'.repeat(email.length) : '*'.repeat(at) + email.slice(at);
}

/** `contactDetails{name,mobile,email}` as the secondary samples show it; `null` for what was not given. */
function contactDetailsOf(contact: ContactDetails | undefined) {
  return { name: contact?.name ?? null, mobile: contact?.mobile ?? null, email: contact?.email ?? null };
}

function contactMatches(contact: ContactDetails | undefined, needle: string): boolean {
  return [contact?.name, contact?.mobile, contact?.email].some((value) =>
    value?.toLowerCase().includes(needle),
  );
}

/** A 16-digit account number, as the sample shows, so masking has something to mask. */
function randomAccount(): Account {
  let accountNumber = String(randomInt(1, 10));
  while (accountNumber.length < 16) accountNumber += String(randomInt(0, 10));
  return { accountType: 'ACCOUNT', accountNumber, accountIfsc: DEFAULT_IFSC };
}

/**
 * Shaped like the sample's `1231212092131KTMDF`: `1`, the UTC time as yyMMddHHmmss, five capitals.
 */
function orderIdAt(at: number): string {
  const utc = new Date(at).toISOString();
  const stamp = utc.slice(2, 4) + utc.slice(5, 7) + utc.slice(8, 10) + utc.slice(11, 13) + utc.slice(14, 16);
  let letters = '';
  for (let i = 0; i < 5; i++) letters += String.fromCharCode(65 + randomInt(0, 26));
  return `1${stamp}${utc.slice(17, 19)}${letters}`;
}

/** Copies through JSON, so in-process callers get exactly what an HTTP caller would. */
function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
