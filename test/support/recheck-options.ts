import type { RecheckOptions } from '#shared/recheck/recheck-run.ts';
import { shardsForGroup } from '#shared/recheck/shard-groups.ts';
import { TokenBucket } from '#shared/recheck/token-bucket.ts';

/** A recheck run's options for tests: every shard, plenty of time and rate. */
export function recheckOptions(overrides: Partial<RecheckOptions> = {}): RecheckOptions {
  return {
    shards: shardsForGroup(0, 1),
    concurrency: 16,
    rateLimit: new TokenBucket(10_000),
    remainingTimeMs: () => 60_000,
    stopBeforeMs: 5_000,
    ...overrides,
  };
}
