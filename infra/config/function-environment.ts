import { DEFAULTS } from '#shared/config/defaults.ts';
import { METRICS_NAMESPACE } from '#shared/observability/metric-names.ts';
import { FUNCTION_NAMES, type FunctionName } from '#shared/resource-names.ts';
import type { StageConfig } from './stage-config.ts';

/** Every function's variables: its stage, and its Powertools service name, metrics namespace and log level. */
export function houseEnvironment(name: FunctionName, config: StageConfig): Record<string, string> {
  return {
    STAGE: config.stage,
    POWERTOOLS_SERVICE_NAME: name,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
}

/** The functions that run a handler of `functions/` (the secret seed is a custom resource). */
export type HandlerName = Exclude<FunctionName, typeof FUNCTION_NAMES.webhookSecretSeed>;

/**
 * What a function's environment names besides its stage config: where its resources are. The stack
 * gives CloudFormation references (and `WEBHOOK_SUBSCRIBERS` as a JSON string of them), the local
 * cloud the names it created on the emulator.
 */
export interface FunctionResources {
  [FUNCTION_NAMES.trackLink]: {
    tableName: string;
    eventBusName: string;
    /** The attempt log, read by `GET /links/{linkId}/deliveries` and `GET /subscribers`. */
    deliveriesTableName: string;
    /** The subscribers with their queues (`WEBHOOK_SUBSCRIBERS`), for `/subscribers/...`. */
    webhookSubscribers: string;
  };
  [FUNCTION_NAMES.recheckPending]: { tableName: string; eventBusName: string };
  [FUNCTION_NAMES.deliverWebhooks]: {
    tableName: string;
    deliveriesTableName: string;
    webhookSubscribers: string;
  };
  [FUNCTION_NAMES.discoverLinks]: { tableName: string; eventBusName: string };
}

/** The statuses a stage's discovery lists, in walk order. */
export function discoveryStatuses(config: StageConfig): readonly string[] {
  return config.discovery.statuses ?? DEFAULTS.discoveryStatuses;
}

/** The environment both InstantPay callers read (`shared/config/runtime-config.ts`). */
function trackerEnvironment(
  config: StageConfig,
  resources: FunctionResources[typeof FUNCTION_NAMES.recheckPending],
): Record<string, string> {
  return {
    TABLE_NAME: resources.tableName,
    EVENT_BUS_NAME: resources.eventBusName,
    INSTANTPAY_SECRET_NAME: config.instantPaySecretName,
    MASK_PERSONAL_DATA: String(config.maskPersonalData),
    UPSTREAM_TIMEOUT_MS: String(DEFAULTS.upstreamTimeoutMs),
    SECRET_MAX_AGE_SECONDS: String(DEFAULTS.secretMaxAgeSeconds),
    // The adaptive schedule runs at real speed once deployed (the local cloud compresses it).
    SCHEDULE_SCALE: String(DEFAULTS.scheduleScale),
    ...(config.instantPayBaseUrl ? { INSTANTPAY_BASE_URL: config.instantPayBaseUrl } : {}),
  };
}

const SPECIFIC: {
  [F in HandlerName]: (config: StageConfig, resources: FunctionResources[F]) => Record<string, string>;
} = {
  [FUNCTION_NAMES.trackLink]: (config, resources) => ({
    ...trackerEnvironment(config, resources),
    DELIVERIES_TABLE_NAME: resources.deliveriesTableName,
    WEBHOOK_SUBSCRIBERS: resources.webhookSubscribers,
  }),
  [FUNCTION_NAMES.recheckPending]: (config, resources) => ({
    ...trackerEnvironment(config, resources),
    RECHECK_CONCURRENCY: String(config.recheckConcurrency),
    UPSTREAM_MAX_RPS: String(config.upstreamMaxRps),
    RECHECK_PARALLEL_RUNS: String(config.recheckParallelRuns),
    RECHECK_STOP_BEFORE_MS: String(DEFAULTS.recheckStopBeforeMs),
    DISCOVERY_ENABLED: String(config.discovery.enabled),
  }),
  [FUNCTION_NAMES.discoverLinks]: (config, resources) => ({
    ...trackerEnvironment(config, resources),
    DISCOVERY_STATUSES: discoveryStatuses(config).join(','),
    DISCOVERY_RECORDS_PER_PAGE: String(DEFAULTS.discoveryRecordsPerPage),
    DISCOVERY_CONCURRENCY: String(DEFAULTS.discoveryConcurrency),
    DISCOVERY_STOP_BEFORE_MS: String(DEFAULTS.discoveryStopBeforeMs),
    // Discovery's share of the budget is computed from these, as the recheck runs compute theirs.
    UPSTREAM_MAX_RPS: String(config.upstreamMaxRps),
    RECHECK_PARALLEL_RUNS: String(config.recheckParallelRuns),
  }),
  [FUNCTION_NAMES.deliverWebhooks]: (_config, resources) => ({
    TABLE_NAME: resources.tableName,
    DELIVERIES_TABLE_NAME: resources.deliveriesTableName,
    WEBHOOK_SUBSCRIBERS: resources.webhookSubscribers,
    SECRET_MAX_AGE_SECONDS: String(DEFAULTS.secretMaxAgeSeconds),
    // The retry backoff at real speed once deployed (the local cloud compresses it with the schedule).
    SCHEDULE_SCALE: String(DEFAULTS.scheduleScale),
  }),
};

/**
 * Everything a function's handler reads from its environment, from the stage config: what the
 * stack deploys and what the local cloud hands the same handlers (with its own overrides).
 */
export function functionEnvironment<F extends HandlerName>(
  name: F,
  config: StageConfig,
  resources: FunctionResources[F],
): Record<string, string> {
  return { ...houseEnvironment(name, config), ...SPECIFIC[name](config, resources) };
}
