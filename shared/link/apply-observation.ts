import type { LinkObservation } from '#shared/instantpay/client.ts';
import type { LinkChange } from './link-event.ts';
import type { LinkState } from './link-state.ts';
import { lastChangeAt, type ScheduleInput } from './recheck-schedule.ts';

export type Scheduler = (input: ScheduleInput, now: number) => number | null;

/**
 * The state after a successful observation (activity already masked) and the changes it produced.
 * Every successful check watches a link that is not final; a final link leaves the schedule.
 */
export function applyObservation(
  stored: LinkState,
  observed: LinkObservation,
  changes: readonly LinkChange[],
  now: number,
  schedule: Scheduler,
): LinkState {
  // InstantPay's activity list only grows; never let a shorter answer erase what was recorded.
  const activity = observed.activity.length >= stored.activity.length ? observed.activity : stored.activity;
  const lastChangedAt = changes.length > 0 ? now : stored.lastChangedAt;
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
    nextCheckAt: schedule(
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
  };
}

/** The state after a failed check: the status is untouched, the next check backs off. */
export function applyFailedCheck(stored: LinkState, now: number, schedule: Scheduler): LinkState {
  const consecutiveErrors = stored.consecutiveErrors + 1;
  return {
    ...stored,
    version: stored.version + 1,
    lastCheckedAt: now,
    checks: stored.checks + 1,
    consecutiveErrors,
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
