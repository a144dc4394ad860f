import { DOCUMENTED_STATUSES, type DocumentedStatus } from '#shared/link/link-status.ts';
import * as z from '#shared/zod.ts';
import { DEFAULTS } from './defaults.ts';
import { type Env, parseEnv } from './runtime-config.ts';
import { UPSTREAM_BUDGET_ENV, upstreamShare } from './upstream-budget.ts';

/** The discovery run's own settings (`functions/discover-links`). */
const DiscoveryEnvSchema = z.object({
  /** Comma separated, in the order they are walked. */
  DISCOVERY_STATUSES: z._default(
    z.pipe(
      z.pipe(
        z.string(),
        z.transform((text) =>
          text
            .split(',')
            .map((status) => status.trim())
            .filter(Boolean),
        ),
      ),
      z.array(z.enum(DOCUMENTED_STATUSES)).check(z.minLength(1)),
    ),
    [...DEFAULTS.discoveryStatuses] as DocumentedStatus[],
  ),
  DISCOVERY_RECORDS_PER_PAGE: z._default(
    z.coerce.number().check(z.int(), z.gte(1), z.lte(1000)),
    DEFAULTS.discoveryRecordsPerPage,
  ),
  DISCOVERY_CONCURRENCY: z._default(
    z.coerce.number().check(z.int(), z.gte(1), z.lte(64)),
    DEFAULTS.discoveryConcurrency,
  ),
  DISCOVERY_STOP_BEFORE_MS: z._default(
    z.coerce.number().check(z.int(), z.gte(0)),
    DEFAULTS.discoveryStopBeforeMs,
  ),
  ...UPSTREAM_BUDGET_ENV,
});

export interface DiscoveryConfig {
  statuses: DocumentedStatus[];
  recordsPerPage: number;
  concurrency: number;
  stopBeforeMs: number;
  /** Discovery's share of the stage's upstream budget ({@link upstreamShare}). */
  runMaxRps: number;
}

export function loadDiscoveryConfig(env: Env = process.env): DiscoveryConfig {
  const e = parseEnv(DiscoveryEnvSchema, env);
  return {
    statuses: [...new Set(e.DISCOVERY_STATUSES)],
    recordsPerPage: e.DISCOVERY_RECORDS_PER_PAGE,
    concurrency: e.DISCOVERY_CONCURRENCY,
    stopBeforeMs: e.DISCOVERY_STOP_BEFORE_MS,
    runMaxRps: upstreamShare(e.UPSTREAM_MAX_RPS, e.RECHECK_PARALLEL_RUNS, true),
  };
}
