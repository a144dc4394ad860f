import { describe, expect, it } from 'vitest';
import { functionEnvironment } from '#infra/config/function-environment.ts';
import { stageConfig } from '#infra/config/stage-config.ts';
import { LocalSettingsSchema } from '#infra/local/local-settings.ts';
import { LOCAL_RESOURCES, localEnvironments, localStageConfig } from '#infra/local/local-stage.ts';
import { loadDiscoveryConfig } from '#shared/config/discovery-config.ts';
import { loadRecheckConfig } from '#shared/config/recheck-config.ts';
import { ConfigError, loadRuntimeConfig, parseEnv } from '#shared/config/runtime-config.ts';
import { loadDeliveryAdminConfig, loadDeliveryConfig } from '#shared/webhooks/delivery-config.ts';

const API_URL = 'http://127.0.0.1:3000';
const TARGETS = [
  {
    name: 'local-sink',
    url: `${API_URL}/local/webhooks`,
    secretName: 'payout-link-tracker/local/webhooks/local-sink',
    queueUrl: 'http://127.0.0.1:5000/000000000000/payout-link-tracker-local-webhook-local-sink',
    queueArn: 'arn:aws:sqs:ap-south-1:000000000000:payout-link-tracker-local-webhook-local-sink',
    deadLetterQueueUrl: 'http://127.0.0.1:5000/000000000000/payout-link-tracker-local-webhook-local-sink-dlq',
    deadLetterQueueArn:
      'arn:aws:sqs:ap-south-1:000000000000:payout-link-tracker-local-webhook-local-sink-dlq',
  },
];

function local(env: Record<string, string> = {}) {
  const settings = parseEnv(LocalSettingsSchema, env);
  const config = localStageConfig(settings, API_URL);
  return { settings, config, environments: localEnvironments(config, settings, TARGETS) };
}

describe('the local stage of npm start', () => {
  it('is the local stage config with the sink and each WEBHOOK_URLS entry as subscribers, each with its own secret', () => {
    const { config } = local({ WEBHOOK_URLS: 'http://127.0.0.1:9000/a, https://hooks.example.com/b' });
    expect(config).toEqual({
      ...stageConfig('local'),
      // npm start runs discovery on its own loop (DISCOVERY_INTERVAL_SECONDS, default 5).
      discovery: { enabled: true },
      subscribers: [
        {
          name: 'local-sink',
          url: 'http://127.0.0.1:3000/local/webhooks',
          secretName: 'payout-link-tracker/local/webhooks/local-sink',
        },
        {
          name: 'webhook-1',
          url: 'http://127.0.0.1:9000/a',
          secretName: 'payout-link-tracker/local/webhooks/webhook-1',
        },
        {
          name: 'webhook-2',
          url: 'https://hooks.example.com/b',
          secretName: 'payout-link-tracker/local/webhooks/webhook-2',
        },
      ],
    });
  });

  it('hands each function the environment the stack builds for the stage, the schedule and webhook backoff compressed, its log level and no metrics', () => {
    const { config, environments } = local();
    const differences = {
      SCHEDULE_SCALE: '1/60',
      POWERTOOLS_LOG_LEVEL: 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
    const webhookSubscribers = JSON.stringify(TARGETS);
    expect(environments.trackLink).toEqual({
      ...functionEnvironment('track-link', config, { ...LOCAL_RESOURCES, webhookSubscribers }),
      ...differences,
    });
    expect(environments.deliver).toEqual({
      ...functionEnvironment('deliver-webhooks', config, { ...LOCAL_RESOURCES, webhookSubscribers }),
      ...differences,
    });
    expect(loadDeliveryAdminConfig(environments.trackLink)).toEqual({
      deliveriesTableName: 'payout-link-tracker-local-deliveries',
      targets: TARGETS,
    });
    expect(environments.recheck).toEqual({
      ...functionEnvironment('recheck-pending', config, LOCAL_RESOURCES),
      ...differences,
    });
    expect(loadRuntimeConfig(environments.trackLink)).toMatchObject({
      stage: 'local',
      tableName: 'payout-link-tracker-local-links',
      eventBusName: 'payout-link-tracker-local',
      instantPaySecretName: 'payout-link-tracker/local/instantpay',
      instantPayBaseUrl: undefined,
      upstreamTimeoutMs: 5_000,
      secretMaxAgeSeconds: 300,
      maskPersonalData: true,
      schedule: { scale: 1 / 60 },
    });
    expect(loadRecheckConfig(environments.recheck)).toEqual({
      concurrency: 16,
      upstreamMaxRps: 20,
      parallelRuns: 1,
      stopBeforeMs: 15_000,
      // Half the budget: discovery runs too.
      runMaxRps: 10,
    });
    expect(environments.discover).toEqual({
      ...functionEnvironment('discover-links', config, LOCAL_RESOURCES),
      ...differences,
    });
    expect(loadDiscoveryConfig(environments.discover)).toMatchObject({
      statuses: ['ISSUED', 'PROCESSING'],
      runMaxRps: 10,
    });
    expect(loadDeliveryConfig(environments.deliver)).toEqual({
      stage: 'local',
      tableName: 'payout-link-tracker-local-links',
      deliveriesTableName: 'payout-link-tracker-local-deliveries',
      targets: TARGETS,
      secretMaxAgeSeconds: 300,
      backoffScale: 1 / 60,
    });
  });

  it('takes RECHECK_CONCURRENCY, UPSTREAM_MAX_RPS and MASK_PERSONAL_DATA as changes to the local stage config', () => {
    const { config, environments } = local({
      RECHECK_CONCURRENCY: '4',
      UPSTREAM_MAX_RPS: '2.5',
      MASK_PERSONAL_DATA: 'no',
      LOG_LEVEL: 'DEBUG',
    });
    expect(config).toMatchObject({ recheckConcurrency: 4, upstreamMaxRps: 2.5, maskPersonalData: false });
    expect(loadRecheckConfig(environments.recheck)).toMatchObject({ concurrency: 4, upstreamMaxRps: 2.5 });
    expect(loadRuntimeConfig(environments.trackLink).maskPersonalData).toBe(false);
    expect(environments.deliver.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
  });

  it('turns discovery off with DISCOVERY_INTERVAL_SECONDS=0, and gives the recheck the whole upstream budget then', () => {
    const { config, environments } = local({ DISCOVERY_INTERVAL_SECONDS: '0' });
    expect(config.discovery).toEqual({ enabled: false });
    expect(loadRecheckConfig(environments.recheck).runMaxRps).toBe(20);
    expect(() => local({ DISCOVERY_INTERVAL_SECONDS: '-1' })).toThrow(/DISCOVERY_INTERVAL_SECONDS/);
  });

  it('refuses, naming the variable, a webhook URL or a rate the stage config would refuse', () => {
    expect(() => local({ WEBHOOK_URLS: 'http://10.0.0.1/hook' })).toThrow(ConfigError);
    expect(() => local({ WEBHOOK_URLS: 'http://10.0.0.1/hook' })).toThrow(
      /^Invalid environment: WEBHOOK_URLS: http:\/\/10\.0\.0\.1\/hook must use https/,
    );
    expect(() => local({ RECHECK_CONCURRENCY: '0' })).toThrow(/^Invalid environment: RECHECK_CONCURRENCY: /);
    expect(() => local({ UPSTREAM_MAX_RPS: 'fast' })).toThrow(/^Invalid environment: UPSTREAM_MAX_RPS: /);
    expect(() => local({ MASK_PERSONAL_DATA: 'maybe' })).toThrow(
      /^Invalid environment: MASK_PERSONAL_DATA: /,
    );
  });
});
