import type { LinkActivity } from '#shared/instantpay/schemas.ts';

/** What the tracker knows of one link. Times are epoch milliseconds. */
export interface LinkState {
  linkId: string;
  /** `null` until the first successful observation (a link registered while InstantPay was down). */
  status: string | null;
  amount: number | null;
  /** Every activity entry seen so far, masked. */
  activity: LinkActivity[];
  /** Number of recorded changes; the next change gets `sequence + 1`. */
  sequence: number;
  /** Grows with every write; writes are conditional on it. */
  version: number;
  registeredAt: number;
  firstSeenAt: number | null;
  /**
   * When the newest applied observation's answer arrived. An observation that started before it is
   * stale: its view of the upstream may predate the stored one, so it never overwrites it.
   */
  lastObservedAt: number | null;
  lastCheckedAt: number | null;
  lastChangedAt: number | null;
  /** When the link is due for a recheck; `null` when it is not watched. */
  nextCheckAt: number | null;
  checks: number;
  consecutiveErrors: number;
  expiresAt: number | null;
  reference?: string;
  metadata?: Record<string, string>;
  upstream: UpstreamStamp | null;
}

export interface UpstreamStamp {
  statuscode: string;
  ipayUuid: string | null;
  environment: string | null;
  timestamp: string | null;
}

export function newLinkState(linkId: string, now: number): LinkState {
  return {
    linkId,
    status: null,
    amount: null,
    activity: [],
    sequence: 0,
    version: 0,
    registeredAt: now,
    firstSeenAt: null,
    lastObservedAt: null,
    lastCheckedAt: null,
    lastChangedAt: null,
    nextCheckAt: null,
    checks: 0,
    consecutiveErrors: 0,
    expiresAt: null,
    upstream: null,
  };
}
