import { randomUUID } from 'node:crypto';
import type { Clock } from '#shared/clock.ts';
import { DEFAULTS } from '#shared/config/defaults.ts';
import { InstantPayError } from '#shared/instantpay/errors.ts';
import { parseIst } from '#shared/instantpay/ist-time.ts';
import type { LinkChange } from '#shared/link/link-event.ts';
import type { Log } from '#shared/observability/log.ts';
import { failedCheckOf, type LinkTracker } from '#shared/tracker/link-tracker.ts';
import { DueLinks } from './due-links.ts';
import { PublishBuffer } from './publish-buffer.ts';
import { republishPending } from './republish.ts';
import { ShardLeases } from './shard-leases.ts';
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
  /** A shard's lease lasts the invocation's remaining time plus this, so it outlives the run. */
  leaseMarginMs?: number;
  /** The holder written on the leases: a fresh id per run unless given. */
  runId?: string;
  pageSize?: number;
  republishLimit?: number;
}

export interface RecheckSummary {
  linksChecked: number;
  transitionsRecorded: number;
  upstreamErrors: number;
  /** Other failures (the table or the bus): the link stays due for the next run. */
  otherErrors: number;
  /** Shards with due links whose lease another run held: left to that run. */
  leaseConflicts: number;
  /** Shards whose lease this run lost while it held it: it took none of their links after. */
  leasesLost: number;
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
  /** Checks each due link, records failures, publishes and republishes. */
  tracker: LinkTracker;
  /** The due links, the shards' leases and the backlog and outbox figures. */
  store: SweepStore;
  clock?: Clock;
  log?: Log;
}

/**
 * One scheduled run: republish what earlier failures left in the outbox, take the lease of each owned
 * shard that has links due, then check every due link of those shards, oldest first, with bounded
 * concurrency and an upstream rate limit, until the time budget says stop. The rest is left for the
 * next run. A check of an unchanged link is then its one conditional write: no per-link claim.
 */
export async function runRecheck(deps: RecheckDeps, options: RecheckOptions): Promise<RecheckSummary> {
  const { tracker, store } = deps;
  const clock = deps.clock ?? tracker.clock;
  const summary: RecheckSummary = {
    linksChecked: 0,
    transitionsRecorded: 0,
    upstreamErrors: 0,
    otherErrors: 0,
    leaseConflicts: 0,
    leasesLost: 0,
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
  /** Links a worker took from the index but gave back unchecked when time ran out. */
  const taken: number[] = [];

  try {
    const republished = await republishPending({ tracker, store }, options.republishLimit ?? 500);
    summary.republished = republished.republished;
    summary.unpublished = republished.remaining;
  } catch (error) {
    // The outbox waits for the next run; the due links need not.
    summary.otherErrors++;
    deps.log?.error('could not republish the outbox', { error: errorName(error) });
  }

  const startedAt = clock.now();
  const leases = new ShardLeases(
    store,
    options.runId ?? randomUUID(),
    clock,
    () => options.remainingTimeMs() + (options.leaseMarginMs ?? DEFAULTS.recheckLeaseMarginMs),
  );
  try {
    const leased = await takeLeases(store, leases, options.shards, startedAt, summary, deps.log);
    const due = new DueLinks(store, leased, startedAt, options.pageSize ?? 100);
    await sweep(due);
    await countBacklog(due);
  } finally {
    const unreleased = await leases.releaseAll();
    summary.leasesLost = leases.lost;
    // Not lost: an unreleased lease ends on its own, after the invocation could have ended.
    if (unreleased > 0) deps.log?.warn('could not release shard leases', { count: unreleased });
  }

  async function sweep(due: DueLinks): Promise<void> {
    const outgoing = new PublishBuffer((changes) => tracker.publish(changes));

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
        await options.rateLimit.take();
        if (outOfTime()) {
          summary.stoppedEarly = true;
          taken.push(next.nextCheckAt);
          return;
        }
        // Only while the shard is this run's for as long as a check may take: else it is its holder's.
        if (!(await leases.holds(next.shard, options.stopBeforeMs))) {
          due.drop(next.shard);
          continue;
        }
        try {
          const result = await tracker.check(next.linkId, {
            trigger: 'scheduled',
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
            const { linkId } = next;
            await tracker
              .recordScheduledFailure(linkId, next.nextCheckAt, failedCheckOf(error))
              .catch((failure: unknown) => {
                deps.log?.error('could not record the failed check', { linkId, error: errorName(failure) });
              });
          } else {
            // Nothing was written: the link stays due, and the next run checks it again.
            summary.otherErrors++;
            deps.log?.error('scheduled check failed', {
              linkId: next.linkId,
              error: errorName(error),
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
    const crashed = workers.find(
      (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
    );
    if (crashed) throw crashed.reason;
    summary.unpublished += outgoing.unpublished;
  }

  /**
   * The backlog is what this run left of the links due when it started in the shards it held:
   * nothing when it finished, else what it read but did not take, plus a count of the pages it
   * never read.
   */
  async function countBacklog(due: DueLinks): Promise<void> {
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
  }

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

/**
 * Takes the lease of each shard that has links due (a shard with none costs no write), in parallel;
 * answers the shards this run now holds. A shard another run holds is left to it.
 */
async function takeLeases(
  store: SweepStore,
  leases: ShardLeases,
  shards: readonly string[],
  now: number,
  summary: RecheckSummary,
  log: Log | undefined,
): Promise<string[]> {
  const outcomes = await Promise.all(
    shards.map(async (shard) => {
      try {
        const probe = await store.queryDue(shard, now, 1);
        if (probe.due.length === 0) return null;
        if (await leases.take(shard)) return shard;
        summary.leaseConflicts++;
      } catch (error) {
        // That shard waits for the next run; the others need not.
        summary.otherErrors++;
        log?.error('could not take a shard lease', { shard, error: errorName(error) });
      }
      return null;
    }),
  );
  return outcomes.filter((shard): shard is string => shard !== null);
}

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
