import type { Clock } from '#shared/clock.ts';
import { InstantPayError } from '#shared/instantpay/errors.ts';
import { parseIst } from '#shared/instantpay/ist-time.ts';
import type { LinkChange } from '#shared/link/link-event.ts';
import type { Log } from '#shared/observability/log.ts';
import { failedCheckOf, type LinkTracker } from '#shared/tracker/link-tracker.ts';
import { DueLinks } from './due-links.ts';
import { PublishBuffer } from './publish-buffer.ts';
import type { SweepStore } from './sweep-store.ts';
import type { TokenBucket } from './token-bucket.ts';

export interface RecheckOptions {
  /** The due-index shards this run owns. */
  shards: readonly string[];
  /** How many links are checked at once. */
  concurrency: number;
  /** Upstream calls go through this bucket (`UPSTREAM_MAX_RPS`). */
  rateLimit: TokenBucket;
  /** The Lambda's own clock: `context.getRemainingTimeInMillis`. */
  remainingTimeMs: () => number;
  /** Stop taking new links when less than this is left, so the ones in flight finish in time. */
  stopBeforeMs: number;
  /** How long a claimed link stays claimed if this run dies before recording its check. */
  leaseMs: number;
  pageSize?: number;
  republishLimit?: number;
}

export interface RecheckSummary {
  linksChecked: number;
  transitionsRecorded: number;
  upstreamErrors: number;
  /** Other failures (the table or the bus): a claimed link is released, due again 30 s later. */
  otherErrors: number;
  /** Links another run or an on-demand check took first. */
  claimConflicts: number;
  republished: number;
  /** Changes still unpublished after this run's republish attempt. */
  unpublished: number;
  /** Changes in the outbox when the run ended, the age of the oldest, and the quarantine's size. */
  outboxBacklog: number;
  oldestUnpublishedAgeSeconds: number;
  outboxQuarantined: number;
  /** Checks where InstantPay disagreed with a final status already recorded (nothing recorded). */
  finalConflicts: number;
  dueBacklog: number;
  oldestDueAgeSeconds: number;
  /** Per recorded change: observation time minus the newest activity's `activityAt` (IST). */
  detectionDelaySeconds: number[];
  stoppedEarly: boolean;
}

export interface RecheckDeps {
  /** Checks each claimed link, records failures, publishes and republishes. */
  tracker: LinkTracker;
  /** The due links, their claims and the backlog and outbox figures. */
  store: SweepStore;
  clock?: Clock;
  log?: Log;
}

/**
 * One scheduled run: republish what earlier failures left in the outbox, then check every due link
 * of the owned shards, oldest first, with bounded concurrency and an upstream rate limit, until the
 * time budget says stop. The rest is left for the next run.
 */
export async function runRecheck(deps: RecheckDeps, options: RecheckOptions): Promise<RecheckSummary> {
  const { tracker, store } = deps;
  const clock = deps.clock ?? tracker.clock;
  const summary: RecheckSummary = {
    linksChecked: 0,
    transitionsRecorded: 0,
    upstreamErrors: 0,
    otherErrors: 0,
    claimConflicts: 0,
    republished: 0,
    unpublished: 0,
    outboxBacklog: 0,
    oldestUnpublishedAgeSeconds: 0,
    outboxQuarantined: 0,
    finalConflicts: 0,
    dueBacklog: 0,
    oldestDueAgeSeconds: 0,
    detectionDelaySeconds: [],
    stoppedEarly: false,
  };
  const outOfTime = () => options.remainingTimeMs() < options.stopBeforeMs;

  try {
    const republished = await tracker.republishPending(options.republishLimit ?? 500);
    summary.republished = republished.republished;
    summary.unpublished = republished.remaining;
  } catch (error) {
    // The outbox waits for the next run; the due links need not.
    summary.otherErrors++;
    deps.log?.error('could not republish the outbox', { error: errorName(error) });
  }

  const startedAt = clock.now();
  const due = new DueLinks(store, options.shards, startedAt, options.pageSize ?? 100);
  const outgoing = new PublishBuffer((changes) => tracker.publish(changes));
  /** Links a worker took from the index but gave back unchecked when time ran out. */
  const taken: number[] = [];

  async function worker(): Promise<void> {
    for (;;) {
      if (outOfTime()) {
        summary.stoppedEarly = true;
        return;
      }
      let next: Awaited<ReturnType<typeof due.next>>;
      try {
        next = await due.next();
      } catch (error) {
        // The due index could not be read: this worker stops; what is due stays due for the next run.
        summary.otherErrors++;
        deps.log?.error('could not read the due links', { error: errorName(error) });
        return;
      }
      if (!next) return;
      if (outOfTime()) {
        summary.stoppedEarly = true;
        taken.push(next.nextCheckAt);
        return;
      }
      let claimed: Awaited<ReturnType<typeof store.claim>>;
      try {
        claimed = await store.claim(next.linkId, next.nextCheckAt, clock.now() + options.leaseMs);
      } catch (error) {
        // One failed write must not end the run: the link stays due for the next one.
        summary.otherErrors++;
        deps.log?.error('could not claim a due link', { linkId: next.linkId, error: errorName(error) });
        continue;
      }
      if (!claimed) {
        summary.claimConflicts++;
        continue;
      }
      // After the claim, so a link another run took costs no upstream budget.
      await options.rateLimit.take();
      try {
        const result = await tracker.check(next.linkId, {
          trigger: 'scheduled',
          known: { kind: 'read', state: claimed },
          deferPublishing: true,
        });
        summary.linksChecked++;
        summary.transitionsRecorded += result.changes.length;
        if (result.finalConflict) summary.finalConflicts++;
        outgoing.add(result.changes);
        for (const change of result.changes) {
          const delay = detectionDelaySeconds(change);
          if (delay !== undefined) summary.detectionDelaySeconds.push(delay);
        }
      } catch (error) {
        if (error instanceof InstantPayError) {
          summary.upstreamErrors++;
          summary.linksChecked++;
          deps.log?.warn('scheduled check failed upstream', {
            linkId: next.linkId,
            error: error.name,
            statuscode: error.statuscode,
            httpStatus: error.httpStatus,
          });
          await tracker.recordFailure(claimed, failedCheckOf(error)).catch((failure: unknown) => {
            deps.log?.error('could not record the failed check', {
              linkId: next.linkId,
              error: errorName(failure),
            });
          });
        } else {
          summary.otherErrors++;
          deps.log?.error('scheduled check failed', {
            linkId: next.linkId,
            error: errorName(error),
            message: error instanceof Error ? error.message : undefined,
          });
          // Not left claimed until the lease ends: due again shortly (unless another writer moved it).
          await tracker.releaseClaim(claimed, RETRY_AFTER_FAILURE_MS);
        }
      }
    }
  }

  // Every worker finishes (none keeps checking after the run returns), and what was recorded goes out.
  const workers = await Promise.allSettled(
    Array.from({ length: Math.max(1, options.concurrency) }, () => worker()),
  );
  await outgoing.drain();
  const crashed = workers.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (crashed) throw crashed.reason;
  summary.unpublished += outgoing.unpublished;

  // The backlog is what this run left of the links due when it started: nothing when it finished,
  // else what it read but did not take, plus a count of the pages it never read.
  const left = due.remaining();
  const unreadCounts = await Promise.all(
    left.unread.map(({ shard, startKey }) => store.countDue(shard, startedAt, startKey)),
  ).catch((error: unknown) => {
    deps.log?.error('could not count the due backlog', { error: errorName(error) });
    return [];
  });
  summary.dueBacklog = taken.length + left.buffered + unreadCounts.reduce((sum, count) => sum + count, 0);
  const oldest = Math.min(left.oldest ?? Infinity, ...taken);
  summary.oldestDueAgeSeconds = Number.isFinite(oldest) ? Math.max(0, (clock.now() - oldest) / 1000) : 0;

  try {
    const outbox = await store.outboxStats();
    summary.outboxBacklog = outbox.backlog;
    summary.outboxQuarantined = outbox.quarantined;
    summary.oldestUnpublishedAgeSeconds =
      outbox.oldestRecordedAt === null ? 0 : Math.max(0, (clock.now() - outbox.oldestRecordedAt) / 1000);
  } catch (error) {
    deps.log?.error('could not read the outbox figures', { error: errorName(error) });
  }
  return summary;
}

/** A claimed link whose check failed for a reason other than InstantPay is due again after this. */
const RETRY_AFTER_FAILURE_MS = 30_000;

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** How stale the merchant's view was: when the tracker saw the change minus when InstantPay logged it. */
export function detectionDelaySeconds(change: LinkChange): number | undefined {
  let newest: number | undefined;
  for (const entry of change.detail.activity) {
    const at = parseIst(entry.activityAt);
    if (at !== undefined && (newest === undefined || at > newest)) newest = at;
  }
  if (newest === undefined) return undefined;
  return Math.max(0, (Date.parse(change.detail.observedAt) - newest) / 1000);
}
