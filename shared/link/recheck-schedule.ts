import { parseIst } from '#shared/instantpay/ist-time.ts';
import type { LinkActivity } from './link-observation.ts';
import { isFinal } from './link-status.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The adaptive schedule's constants; part of the stage config. */
export interface ScheduleConfig {
  /** While `PROCESSING`: a claim is in flight and settles soon. */
  processingEveryMs: number;
  /** While `ISSUED` (or an unknown status): the interval by time since the last change. */
  issuedSteps: ReadonlyArray<{ sinceChangeUnderMs: number; everyMs: number }>;
  issuedFinallyEveryMs: number;
  /** +- this fraction of the interval, so links registered together spread out. */
  jitter: number;
  /** After `n` consecutive upstream errors the usual interval is doubled `n` times, up to this. */
  errorBackoffCapMs: number;
  /** After `expiresAt`, one more check this long past it, then watching ends. */
  expiryGraceMs: number;
  /** A link whose checks failed with only non-transient errors for this long since the first is no longer watched. */
  giveUpAfterPermanentErrorsMs: number;
  /** A link whose checks still fail this long past its `expiresAt` is no longer watched. */
  expiryFailureGraceMs: number;
  /** Compresses the whole schedule (intervals and the points where they change): 1 when deployed, 1/60 locally. */
  scale: number;
}

export const DEFAULT_SCHEDULE: ScheduleConfig = {
  processingEveryMs: 30 * SECOND,
  issuedSteps: [
    { sinceChangeUnderMs: 15 * MINUTE, everyMs: 1 * MINUTE },
    { sinceChangeUnderMs: 2 * HOUR, everyMs: 5 * MINUTE },
    { sinceChangeUnderMs: 24 * HOUR, everyMs: 15 * MINUTE },
  ],
  issuedFinallyEveryMs: 1 * HOUR,
  jitter: 0.1,
  errorBackoffCapMs: 1 * HOUR,
  expiryGraceMs: 1 * MINUTE,
  giveUpAfterPermanentErrorsMs: 7 * 24 * HOUR,
  expiryFailureGraceMs: 24 * HOUR,
  scale: 1,
};

export interface ScheduleInput {
  status: string | null;
  /** When the link last changed, as far as anyone knows (see {@link lastChangeAt}). */
  lastChangeAt: number | null;
  consecutiveErrors: number;
  expiresAt: number | null;
}

/**
 * When to check a link next, after a check at `now`; `null` when it is no longer watched (final,
 * or checked once past its `expiresAt`). Pure: `random` returns [0, 1).
 */
export function nextCheckAt(
  link: ScheduleInput,
  now: number,
  random: () => number = Math.random,
  config: ScheduleConfig = DEFAULT_SCHEDULE,
): number | null {
  if (link.status !== null && isFinal(link.status)) return null;
  // Watching ends after one successful check past expiry; a failed one is retried (with backoff),
  // or the link's final status would never be seen.
  const expired = link.expiresAt !== null && now >= link.expiresAt;
  if (expired && link.consecutiveErrors === 0) return null;

  const interval = baseInterval(link, now, config) * config.scale;
  const jittered = interval * (1 + config.jitter * (2 * random() - 1));
  let next = now + Math.max(1, Math.round(jittered));
  if (link.expiresAt !== null && !expired) {
    next = Math.min(next, link.expiresAt + config.expiryGraceMs * config.scale);
  }
  return next;
}

function baseInterval(link: ScheduleInput, now: number, config: ScheduleConfig): number {
  const usual = usualInterval(link, now, config);
  if (link.consecutiveErrors === 0) return usual;
  // Exponential backoff from the usual interval, so an error never makes a link checked more often.
  const backedOff = usual * 2 ** Math.min(link.consecutiveErrors, 30);
  return Math.max(usual, Math.min(backedOff, config.errorBackoffCapMs));
}

function usualInterval(link: ScheduleInput, now: number, config: ScheduleConfig): number {
  if (link.status === 'PROCESSING') return config.processingEveryMs;
  // Measured on the uncompressed schedule, so a compressed schedule slows down at the same relative pace.
  const sinceChange = link.lastChangeAt === null ? 0 : Math.max(0, now - link.lastChangeAt) / config.scale;
  return (
    config.issuedSteps.find((step) => sinceChange < step.sinceChangeUnderMs)?.everyMs ??
    config.issuedFinallyEveryMs
  );
}

/**
 * The newest of the tracker's own last change and the newest activity's `activityAt` (IST): the
 * upstream's clock tells how long the link has really been quiet, even before the tracker saw it.
 */
export function lastChangeAt(
  activity: readonly LinkActivity[],
  recordedChangeAt: number | null,
): number | null {
  let newest = recordedChangeAt;
  for (const entry of activity) {
    const at = parseIst(entry.activityAt);
    if (at !== undefined && (newest === null || at > newest)) newest = at;
  }
  return newest;
}
