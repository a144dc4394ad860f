import { functionEnvironment } from '#infra/config/function-environment.ts';
import { parseStageConfig, STAGES, type StageConfig } from '#infra/config/stage-config.ts';
import type { Env } from '#shared/config/runtime-config.ts';
import {
  busName,
  FUNCTION_NAMES,
  LOCAL_DELIVERIES_TABLE_NAME,
  LOCAL_TABLE_NAME,
  webhookSecretName,
} from '#shared/resource-names.ts';
import type { DeliveryTarget } from '#shared/webhooks/delivery-config.ts';
import type { LocalSettings } from './local-settings.ts';

const STAGE = 'local';
/** The built-in webhook receiver on the API port, which prints what it verifies. */
export const SINK = 'local-sink';
export const SINK_PATH = '/local/webhooks';

/**
 * The `local` stage as this start runs it: its stage config, with the subscribers of this start
 * (the sink, then one per `WEBHOOK_URLS` entry) and the rates and masking `npm start` was given,
 * validated as every stage is.
 */
export function localStageConfig(settings: LocalSettings, apiUrl: string): StageConfig {
  const subscribers = [
    { name: SINK, url: `${apiUrl}${SINK_PATH}` },
    ...settings.WEBHOOK_URLS.map((url, index) => ({ name: `webhook-${index + 1}`, url })),
  ];
  return parseStageConfig({
    ...STAGES[STAGE],
    subscribers: subscribers.map((subscriber) => ({
      ...subscriber,
      secretName: webhookSecretName(STAGE, subscriber.name),
    })),
    ...(settings.RECHECK_CONCURRENCY === undefined
      ? {}
      : { recheckConcurrency: settings.RECHECK_CONCURRENCY }),
    ...(settings.UPSTREAM_MAX_RPS === undefined ? {} : { upstreamMaxRps: settings.UPSTREAM_MAX_RPS }),
    ...(settings.MASK_PERSONAL_DATA === undefined ? {} : { maskPersonalData: settings.MASK_PERSONAL_DATA }),
    // Run by the local cloud's own loop, so the recheck gives discovery its share of the budget.
    discovery: { enabled: settings.DISCOVERY_INTERVAL_SECONDS > 0 },
  });
}

/** The local stage's tables and bus, by the names the local cloud gives them on the emulator. */
export const LOCAL_RESOURCES = {
  tableName: LOCAL_TABLE_NAME,
  deliveriesTableName: LOCAL_DELIVERIES_TABLE_NAME,
  eventBusName: busName(STAGE),
};

/**
 * Each function's environment as the stack builds it from the stage config, with what differs on
 * this machine: the compressed schedule, the log level, and no metrics (nothing reads them here).
 */
export function localEnvironments(config: StageConfig, settings: LocalSettings, targets: DeliveryTarget[]) {
  const local: Env = {
    SCHEDULE_SCALE: settings.SCHEDULE_SCALE,
    POWERTOOLS_LOG_LEVEL: settings.LOG_LEVEL,
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const webhookSubscribers = JSON.stringify(targets);
  return {
    trackLink: {
      ...functionEnvironment(FUNCTION_NAMES.trackLink, config, { ...LOCAL_RESOURCES, webhookSubscribers }),
      ...local,
    },
    recheck: { ...functionEnvironment(FUNCTION_NAMES.recheckPending, config, LOCAL_RESOURCES), ...local },
    discover: { ...functionEnvironment(FUNCTION_NAMES.discoverLinks, config, LOCAL_RESOURCES), ...local },
    deliver: {
      ...functionEnvironment(FUNCTION_NAMES.deliverWebhooks, config, {
        ...LOCAL_RESOURCES,
        webhookSubscribers,
      }),
      ...local,
    },
  };
}
