import { DOCUMENTED_STATUSES, type DocumentedStatus } from '#shared/link/link-status.ts';
import { DEFAULT_SCHEDULE, type ScheduleConfig } from '#shared/link/recheck-schedule.ts';
import { busName } from '#shared/resource-names.ts';
import * as z from '#shared/zod.ts';
import { DEFAULTS } from './defaults.ts';

/** A yes/no variable: `true`/`false`, `1`/`0` or `yes`/`no`. */
export const FlagSchema = z.pipe(
  z.enum(['true', 'false', '1', '0', 'yes', 'no']),
  z.transform((value) => value === 'true' || value === '1' || value === 'yes'),
);

/** A positive number, written as a decimal or a fraction (`1/60`). */
export const RatioSchema = z
  .pipe(
    z.string().check(z.regex(/^\d+(\.\d+)?(\/\d+(\.\d+)?)?$/, 'a positive number such as 1, 0.5 or 1/60')),
    z.transform((text) => {
      const [top, bottom] = text.split('/');
      return Number(top) / (bottom === undefined ? 1 : Number(bottom));
    }),
  )
  .check(z.refine((value) => Number.isFinite(value) && value > 0, 'a positive number'));

export const positiveInt = (fallback: number) =>
  z._default(z.coerce.number().check(z.int(), z.positive()), fallback);

/** The environment every function reads, parsed once at cold start. */
const RuntimeEnvSchema = z.object({
  STAGE: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,19}$/, 'a lower-case stage name such as dev or prod')),
  TABLE_NAME: z.string().check(z.minLength(1)),
  EVENT_BUS_NAME: z.optional(z.string().check(z.minLength(1))),
  INSTANTPAY_SECRET_NAME: z.string().check(z.minLength(1)),
  /** Used when the secret has no `baseUrl`. */
  INSTANTPAY_BASE_URL: z.optional(z.url({ protocol: /^https?$/ })),
  UPSTREAM_TIMEOUT_MS: positiveInt(DEFAULTS.upstreamTimeoutMs),
  SECRET_MAX_AGE_SECONDS: positiveInt(DEFAULTS.secretMaxAgeSeconds),
  MASK_PERSONAL_DATA: z._default(FlagSchema, DEFAULTS.maskPersonalData),
  SCHEDULE_SCALE: z._default(RatioSchema, DEFAULTS.scheduleScale),
});

export interface RuntimeConfig {
  stage: string;
  tableName: string;
  eventBusName: string;
  instantPaySecretName: string;
  instantPayBaseUrl: string | undefined;
  upstreamTimeoutMs: number;
  secretMaxAgeSeconds: number;
  maskPersonalData: boolean;
  schedule: ScheduleConfig;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A function's environment: `process.env` in Lambda, the one the local cloud builds for it. */
export type Env = Record<string, string | undefined>;

/** Parses the environment or fails fast naming each faulty variable (never its value). */
export function parseEnv<T>(schema: z.core.$ZodType<T>, env: Env): T {
  const parsed = z.safeParse(schema, env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid environment: ${problems.join('; ')}`);
}

export function loadRuntimeConfig(env: Env = process.env): RuntimeConfig {
  const e = parseEnv(RuntimeEnvSchema, env);
  return {
    stage: e.STAGE,
    tableName: e.TABLE_NAME,
    eventBusName: e.EVENT_BUS_NAME ?? busName(e.STAGE),
    instantPaySecretName: e.INSTANTPAY_SECRET_NAME,
    instantPayBaseUrl: e.INSTANTPAY_BASE_URL,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    secretMaxAgeSeconds: e.SECRET_MAX_AGE_SECONDS,
    maskPersonalData: e.MASK_PERSONAL_DATA,
    schedule: { ...DEFAULT_SCHEDULE, scale: e.SCHEDULE_SCALE },
  };
}

/** The scheduled run's own settings, per stage. */
const RecheckEnvSchema = z.object({
  RECHECK_CONCURRENCY: z._default(
    z.coerce.number().check(z.int(), z.gte(1), z.lte(256)),
    DEFAULTS.recheckConcurrency,
  ),
  /** The upstream call budget of the whole stage; each of the parallel runs takes its share. */
  UPSTREAM_MAX_RPS: z._default(z.coerce.number().check(z.positive(), z.lte(10_000)), DEFAULTS.upstreamMaxRps),
  RECHECK_PARALLEL_RUNS: z._default(
    z.coerce.number().check(z.int(), z.gte(1), z.lte(256)),
    DEFAULTS.recheckParallelRuns,
  ),
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
  UPSTREAM_MAX_RPS: z._default(z.coerce.number().check(z.positive(), z.lte(10_000)), DEFAULTS.upstreamMaxRps),
  RECHECK_PARALLEL_RUNS: z._default(
    z.coerce.number().check(z.int(), z.gte(1), z.lte(256)),
    DEFAULTS.recheckParallelRuns,
  ),
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
