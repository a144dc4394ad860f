import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import type { RecheckConfig } from '#shared/config/runtime-config.ts';
import { type RecheckSummary, runRecheck } from '#shared/recheck/recheck-run.ts';
import { shardsForGroup } from '#shared/recheck/shard-groups.ts';
import { TokenBucket } from '#shared/recheck/token-bucket.ts';
import type { LinkTracker, TrackerLog } from '#shared/tracker/link-tracker.ts';

/** What the schedule sends: which shard group this run owns (one schedule per group). */
export const RecheckEventSchema = z.looseObject({
  shardGroup: z.number().int().min(0).default(0),
});

export interface RecheckContext {
  getRemainingTimeInMillis(): number;
}

/**
 * The `recheck-pending` function as a plain function of its event and context: run one sweep of
 * the owned shards, then write one summary log line and the metrics.
 */
export function createRecheck(
  tracker: LinkTracker,
  config: RecheckConfig,
  log: TrackerLog,
  metrics: Metrics,
) {
  // One bucket per container, carried across runs; the stage's budget is shared by its parallel runs.
  const rateLimit = new TokenBucket(config.upstreamMaxRps / config.parallelRuns);

  return async function recheck(event: unknown, context: RecheckContext): Promise<RecheckSummary> {
    const { shardGroup } = RecheckEventSchema.parse(event ?? {});
    const shards = shardsForGroup(shardGroup, config.parallelRuns);
    const summary = await runRecheck(
      { tracker, log },
      {
        shards,
        concurrency: config.concurrency,
        rateLimit,
        remainingTimeMs: () => context.getRemainingTimeInMillis(),
        stopBeforeMs: config.stopBeforeMs,
        leaseMs: context.getRemainingTimeInMillis() + 60_000,
      },
    );
    const { detectionDelaySeconds, ...counts } = summary;
    log.info('recheck run finished', {
      shardGroup,
      ...counts,
      detectionDelayMaxSeconds: detectionDelaySeconds.length ? Math.max(...detectionDelaySeconds) : null,
    });
    metrics.addMetric('LinksChecked', MetricUnit.Count, summary.linksChecked);
    metrics.addMetric('TransitionsRecorded', MetricUnit.Count, summary.transitionsRecorded);
    metrics.addMetric('UpstreamErrors', MetricUnit.Count, summary.upstreamErrors);
    metrics.addMetric('DueBacklog', MetricUnit.Count, summary.dueBacklog);
    metrics.addMetric('OldestDueAgeSeconds', MetricUnit.Seconds, summary.oldestDueAgeSeconds);
    metrics.addMetric('Republished', MetricUnit.Count, summary.republished);
    for (const delay of detectionDelaySeconds)
      metrics.addMetric('DetectionDelaySeconds', MetricUnit.Seconds, delay);
    return summary;
  };
}
