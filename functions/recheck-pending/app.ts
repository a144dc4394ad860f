import type { RecheckConfig } from '#shared/config/recheck-config.ts';
import type { EmfWriter } from '#shared/observability/emf.ts';
import type { Log } from '#shared/observability/log.ts';
import { METRICS } from '#shared/observability/metric-names.ts';
import { type RecheckDeps, type RecheckSummary, runRecheck } from '#shared/recheck/recheck-run.ts';
import { shardsForGroup } from '#shared/recheck/shard-groups.ts';
import { TokenBucket } from '#shared/recheck/token-bucket.ts';
import * as z from '#shared/zod.ts';

/** What the schedule sends: which shard group this run owns (one schedule per group). */
const RecheckEventSchema = z.looseObject({
  shardGroup: z._default(z.number().check(z.int(), z.gte(0)), 0),
});

export interface RecheckContext {
  getRemainingTimeInMillis(): number;
}

/**
 * The `recheck-pending` function as a plain function of its event and context: run one sweep of
 * the owned shards, then write one summary log line and the metrics.
 */
export function createRecheck(
  core: Pick<RecheckDeps, 'tracker' | 'store'>,
  config: RecheckConfig,
  log: Log,
  metrics: EmfWriter,
) {
  // One bucket per container, carried across runs; the stage's budget is shared by its parallel runs (and discovery).
  const rateLimit = new TokenBucket(config.runMaxRps);

  return async function recheck(event: unknown, context: RecheckContext): Promise<RecheckSummary> {
    const { shardGroup } = RecheckEventSchema.parse(event ?? {});
    const shards = shardsForGroup(shardGroup, config.parallelRuns);
    const summary = await runRecheck(
      { ...core, log },
      {
        shards,
        concurrency: config.concurrency,
        rateLimit,
        remainingTimeMs: () => context.getRemainingTimeInMillis(),
        stopBeforeMs: config.stopBeforeMs,
      },
    );
    const { detectionDelaySeconds, ...counts } = summary;
    log.info('recheck run finished', {
      shardGroup,
      ...counts,
      detectionDelayMaxSeconds: detectionDelaySeconds.length ? Math.max(...detectionDelaySeconds) : null,
    });
    // One EMF line (another per further 100 detection delays); no delay, no DetectionDelaySeconds.
    metrics.publish([
      { ...METRICS.linksChecked, values: [summary.linksChecked] },
      { ...METRICS.transitionsRecorded, values: [summary.transitionsRecorded] },
      { ...METRICS.upstreamErrors, values: [summary.upstreamErrors] },
      { ...METRICS.dueBacklog, values: [summary.dueBacklog] },
      { ...METRICS.oldestDueAgeSeconds, values: [summary.oldestDueAgeSeconds] },
      { ...METRICS.republished, values: [summary.republished] },
      { ...METRICS.outboxBacklog, values: [summary.outboxBacklog] },
      { ...METRICS.oldestUnpublishedAgeSeconds, values: [summary.oldestUnpublishedAgeSeconds] },
      { ...METRICS.outboxQuarantined, values: [summary.outboxQuarantined] },
      { ...METRICS.detectionDelaySeconds, values: detectionDelaySeconds },
    ]);
    return summary;
  };
}
