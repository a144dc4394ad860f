import type { DiscoveryConfig } from '#shared/config/discovery-config.ts';
import { type DiscoveryDeps, type DiscoverySummary, runDiscovery } from '#shared/discovery/discovery-run.ts';
import type { EmfWriter } from '#shared/observability/emf.ts';
import type { Log } from '#shared/observability/log.ts';
import { METRICS } from '#shared/observability/metric-names.ts';
import { TokenBucket } from '#shared/recheck/token-bucket.ts';

export interface DiscoveryContext {
  getRemainingTimeInMillis(): number;
}

/**
 * The `discover-links` function as a plain function of its context: one discovery run, then one
 * summary log line and the metrics.
 */
export function createDiscovery(
  core: Omit<DiscoveryDeps, 'log'>,
  config: DiscoveryConfig,
  log: Log,
  metrics: EmfWriter,
  rateLimit: { take(): Promise<void> } = new TokenBucket(config.runMaxRps),
) {
  // The bucket lives per container, across runs: discovery's share of the stage's upstream budget.
  return async function discover(_event: unknown, context: DiscoveryContext): Promise<DiscoverySummary> {
    const summary = await runDiscovery(
      { ...core, log },
      {
        statuses: config.statuses,
        recordsPerPage: config.recordsPerPage,
        concurrency: config.concurrency,
        rateLimit,
        remainingTimeMs: () => context.getRemainingTimeInMillis(),
        stopBeforeMs: config.stopBeforeMs,
      },
    );
    log.info('discovery run finished', { ...summary });
    metrics.publish([
      { ...METRICS.linksDiscovered, values: [summary.linksDiscovered] },
      { ...METRICS.discoveryPagesRead, values: [summary.pagesRead] },
    ]);
    return summary;
  };
}
