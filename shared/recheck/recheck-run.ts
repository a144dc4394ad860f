import type { Clock } from '#shared/clock.ts';
import { InstantPayError } from '#shared/instantpay/errors.ts';
import { parseIst } from '#shared/instantpay/ist-time.ts';
import type { LinkChange } from '#shared/link/link-event.ts';
import type { LinkTracker, TrackerLog } from '#shared/tracker/link-tracker.ts';
import { DueLinks } from './due-links.ts';
import { PublishBuffer } from './publish-buffer.ts';
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
  /** Other failures (the table or the bus): the link stays claimed until its lease ends. */
  otherErrors: number;
  /** Links another run or an on-demand check took first. */
  claimConflicts: number;
  republished: number;
  /** Changes still unpublished after this run's republish attempt. */
  unpublished: number;
  dueBacklog: number;
  oldestDueAgeSeconds: number;
  /** Per recorded change: observation time minus the newest activity's `activityAt` (IST). */
  detectionDelaySeconds: number[];
  stoppedEarly: boolean;
}

export interface RecheckDeps {
  tracker: LinkTracker;
  clock?: Clock;
  log?: TrackerLog;
}

/**
 * One scheduled run: republish what earlier failures left in the outbox, then check every due link
 * of the owned shards, oldest first, with bounded concurrency and an upstream rate limit, until the
 * time budget says stop. The rest is left for the next run.
 */
export async function runRecheck(deps: RecheckDeps, options: RecheckOptions): Promise<RecheckSummary> {
  const { tracker } = deps;
  const clock = deps.clock ?? tracker.clock;
  const store = tracker.store;
  const summary: RecheckSummary = {
    linksChecked: 0,
    transitionsRecorded: 0,
    upstreamErrors: 0,
    otherErrors: 0,
    claimConflicts: 0,
    republished: 0,
    unpublished: 0,
    dueBacklog: 0,
    oldestDueAgeSeconds: 0,
    detectionDelaySeconds: [],
    stoppedEarly: false,
  };
  const outOfTime = () => options.remainingTimeMs() < options.stopBeforeMs;

  const republished = await tracker.republishPending(options.republishLimit ?? 500);
  summary.republished = republished.republished;
  summary.unpublished = republished.remaining;

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
      const next = await due.next();
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
        deps.log?.error('could not claim a due link', {
          linkId: next.linkId,
          error: error instanceof Error ? error.name : typeof error,
        });
        continue;
      }
      if (!claimed) {
        summary.claimConflicts++;
        continue;
      }
      // After the claim, so a link another run took costs no upstream budget.
      await options.rateLimit.take();
      try {
        const result = await tracker.check(next.linkId, 'scheduled', claimed, { deferPublishing: true });
        summary.linksChecked++;
        summary.transitionsRecorded += result.changes.length;
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
          await tracker.recordFailure(claimed).catch((failure: unknown) => {
            deps.log?.error('could not record the failed check', {
              linkId: next.linkId,
              error: String(failure),
            });
          });
        } else {
          summary.otherErrors++;
          deps.log?.error('scheduled check failed', {
            linkId: next.linkId,
            error: error instanceof Error ? error.name : typeof error,
            message: error instanceof Error ? error.message : undefined,
          });
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
  );
  summary.dueBacklog = taken.length + left.buffered + unreadCounts.reduce((sum, count) => sum + count, 0);
  const oldest = Math.min(left.oldest ?? Infinity, ...taken);
  summary.oldestDueAgeSeconds = Number.isFinite(oldest) ? Math.max(0, (clock.now() - oldest) / 1000) : 0;
  return summary;
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
