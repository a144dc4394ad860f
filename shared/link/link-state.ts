import type { LinkActivity } from './link-observation.ts';

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
  /** Why the tracker stopped watching a link that is not final; `null` while watched, final or expired. */
  watchEnded: WatchEnded | null;
  /** The first non-transient upstream error since the last successful check (bounds how long a failing link is watched). */
  failingSince: number | null;
  /** The error of the last check, while checks fail; `null` after a successful one. */
  lastError: CheckError | null;
  /**
   * Found by discovery before any change was recorded (its first check failed): its first change
   * carries `trigger: "discovered"`, whichever check records it.
   */
  discovered?: true;
}

/**
 * `unwatched`: `DELETE /links/{id}`; `upstream-errors`: InstantPay kept failing for this link (an id it
 * does not know, an answer the tracker cannot use) for the whole give-up period; `expired-unreachable`:
 * checks still failed past `expiresAt` plus its grace.
 */
type WatchEndReason = 'unwatched' | 'upstream-errors' | 'expired-unreachable';

interface WatchEnded {
  reason: WatchEndReason;
  at: number;
}

/** A failed check as the link keeps it: the error's class and InstantPay's `statuscode`, never a message. */
export interface CheckError {
  error: string;
  statuscode?: string;
  at: number;
}

interface UpstreamStamp {
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
    watchEnded: null,
    failingSince: null,
    lastError: null,
  };
}
