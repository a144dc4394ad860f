import type { LinkChange } from './link-event.ts';
import type { LinkObservation } from './link-observation.ts';
import type { CheckError, LinkState } from './link-state.ts';
import { isFinal } from './link-status.ts';
import { lastChangeAt, type ScheduleConfig, type ScheduleInput } from './recheck-schedule.ts';

export type Scheduler = (input: ScheduleInput, now: number) => number | null;

/**
 * The state after a successful observation (activity already masked) and the changes it produced.
 * A successful check watches a link that is not final, unless `keepUnwatched` (a scheduled check
 * that finds the link unwatched since it was claimed: a `DELETE` is never undone by a check in flight).
 */
export function applyObservation(
  stored: LinkState,
  observed: LinkObservation,
  changes: readonly LinkChange[],
  now: number,
  schedule: Scheduler,
  options: { keepUnwatched?: boolean } = {},
): LinkState {
  // InstantPay's activity list only grows; never let a shorter answer erase what was recorded.
  const activity = observed.activity.length >= stored.activity.length ? observed.activity : stored.activity;
  const lastChangedAt = changes.length > 0 ? now : stored.lastChangedAt;
  const keepUnwatched = options.keepUnwatched === true && stored.watchEnded !== null;
  return {
    ...stored,
    status: observed.status,
    amount: observed.amount,
    activity,
    sequence: stored.sequence + changes.length,
    version: stored.version + 1,
    firstSeenAt: stored.firstSeenAt ?? now,
    lastObservedAt: observed.observedAt,
    lastCheckedAt: now,
    lastChangedAt,
    checks: stored.checks + 1,
    consecutiveErrors: 0,
    nextCheckAt: keepUnwatched
      ? null
      : schedule(
          {
            status: observed.status,
            lastChangeAt: lastChangeAt(activity, lastChangedAt),
            consecutiveErrors: 0,
            expiresAt: stored.expiresAt,
          },
          now,
        ),
    upstream: {
      statuscode: observed.statuscode,
      ipayUuid: observed.ipayUuid,
      environment: observed.environment,
      timestamp: observed.timestamp,
    },
    watchEnded: keepUnwatched ? stored.watchEnded : null,
    failingSince: null,
    lastError: null,
  };
}

/** A failed check: what went wrong, and whether it can be expected to clear up for this link. */
export interface FailedCheck {
  /** The error's class name, e.g. `LinkNotFoundError`. */
  error: string;
  statuscode?: string;
  /**
   * Non-transient for this link: InstantPay does not know it, or answers what the tracker cannot
   * use. Timeouts, downtime and rejected credentials (an operator's problem, not the link's) are not.
   */
  permanent: boolean;
}

/** When a failing link stops being watched; part of the schedule config, compressed by its `scale`. */
export type GiveUpConfig = Pick<
  ScheduleConfig,
  'giveUpAfterPermanentErrorsMs' | 'expiryFailureGraceMs' | 'scale'
>;

/**
 * The state after a failed check: the status is untouched and the next check backs off. A link is
 * not watched forever: it stops when only non-transient errors came for the whole give-up period
 * since the first of them (no success since), or when a check still fails past `expiresAt` plus a
 * grace. `watchEnded` says why, so the link view shows it.
 */
export function applyFailedCheck(
  stored: LinkState,
  now: number,
  schedule: Scheduler,
  failure: FailedCheck,
  giveUp: GiveUpConfig,
): LinkState {
  const consecutiveErrors = stored.consecutiveErrors + 1;
  const failingSince = failure.permanent ? (stored.failingSince ?? now) : stored.failingSince;
  const lastError: CheckError = {
    error: failure.error,
    ...(failure.statuscode === undefined ? {} : { statuscode: failure.statuscode }),
    at: now,
  };
  const failed = {
    ...stored,
    version: stored.version + 1,
    lastCheckedAt: now,
    checks: stored.checks + 1,
    consecutiveErrors,
    failingSince,
    lastError,
  };
  const endedBy = giveUpReason(failed, now, failure, giveUp);
  if (endedBy) return { ...failed, nextCheckAt: null, watchEnded: { reason: endedBy, at: now } };
  return {
    ...failed,
    nextCheckAt: schedule(
      {
        status: stored.status,
        lastChangeAt: lastChangeAt(stored.activity, stored.lastChangedAt),
        consecutiveErrors,
        expiresAt: stored.expiresAt,
      },
      now,
    ),
  };
}

function giveUpReason(
  state: LinkState,
  now: number,
  failure: FailedCheck,
  giveUp: GiveUpConfig,
): 'upstream-errors' | 'expired-unreachable' | undefined {
  if (state.status !== null && isFinal(state.status)) return undefined;
  if (
    failure.permanent &&
    state.failingSince !== null &&
    now - state.failingSince >= giveUp.giveUpAfterPermanentErrorsMs * giveUp.scale
  ) {
    return 'upstream-errors';
  }
  if (state.expiresAt !== null && now >= state.expiresAt + giveUp.expiryFailureGraceMs * giveUp.scale) {
    return 'expired-unreachable';
  }
  return undefined;
}
