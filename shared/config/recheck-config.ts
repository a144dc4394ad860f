import * as z from '#shared/zod.ts';
import { DEFAULTS } from './defaults.ts';
import { type Env, FlagSchema, parseEnv } from './runtime-config.ts';
import { UPSTREAM_BUDGET_ENV, upstreamShare } from './upstream-budget.ts';

/** The scheduled run's own settings, per stage. */
const RecheckEnvSchema = z.object({
  RECHECK_CONCURRENCY: z._default(
    z.coerce.number().check(z.int(), z.gte(1), z.lte(256)),
    DEFAULTS.recheckConcurrency,
  ),
  ...UPSTREAM_BUDGET_ENV,
  /** Whether the stage runs discovery: then it takes one share of the upstream budget too. */
  DISCOVERY_ENABLED: z._default(FlagSchema, false),
  /** Stop taking new links when less than this is left of the invocation. */
  RECHECK_STOP_BEFORE_MS: z._default(
    z.coerce.number().check(z.int(), z.gte(0)),
    DEFAULTS.recheckStopBeforeMs,
  ),
});

export interface RecheckConfig {
  concurrency: number;
  upstreamMaxRps: number;
  parallelRuns: number;
  stopBeforeMs: number;
  /** The upstream calls per second one recheck run may make: its share of the stage's budget. */
  runMaxRps: number;
}

export function loadRecheckConfig(env: Env = process.env): RecheckConfig {
  const e = parseEnv(RecheckEnvSchema, env);
  return {
    concurrency: e.RECHECK_CONCURRENCY,
    upstreamMaxRps: e.UPSTREAM_MAX_RPS,
    parallelRuns: e.RECHECK_PARALLEL_RUNS,
    stopBeforeMs: e.RECHECK_STOP_BEFORE_MS,
    runMaxRps: upstreamShare(e.UPSTREAM_MAX_RPS, e.RECHECK_PARALLEL_RUNS, e.DISCOVERY_ENABLED),
  };
}
