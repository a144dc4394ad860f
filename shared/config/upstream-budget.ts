import * as z from '#shared/zod.ts';
import { DEFAULTS } from './defaults.ts';

/**
 * The stage's upstream budget, as the recheck runs and discovery both read it from their environment
 * to compute their share.
 */
export const UPSTREAM_BUDGET_ENV = {
  /** The upstream call budget of the whole stage; each recheck run (and discovery) takes its share. */
  UPSTREAM_MAX_RPS: z._default(z.coerce.number().check(z.positive(), z.lte(10_000)), DEFAULTS.upstreamMaxRps),
  RECHECK_PARALLEL_RUNS: z._default(
    z.coerce.number().check(z.int(), z.gte(1), z.lte(256)),
    DEFAULTS.recheckParallelRuns,
  ),
};

/**
 * How the stage's upstream budget (`UPSTREAM_MAX_RPS`) is split: one equal share per recheck run
 * (`RECHECK_PARALLEL_RUNS`) plus one for discovery when the stage runs it, so all of them at once
 * never exceed it.
 */
export function upstreamShare(
  upstreamMaxRps: number,
  parallelRuns: number,
  discoveryEnabled: boolean,
): number {
  return upstreamMaxRps / (parallelRuns + (discoveryEnabled ? 1 : 0));
}
