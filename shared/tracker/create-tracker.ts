import type { Clock } from '#shared/clock.ts';
import type { RuntimeConfig } from '#shared/config/runtime-config.ts';
import { instantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import { EventPublisher } from '#shared/events/event-publisher.ts';
import { createInstantPayClient } from '#shared/instantpay/client.ts';
import type { EmfWriter } from '#shared/observability/emf.ts';
import type { Log } from '#shared/observability/log.ts';
import { LinkStore } from '#shared/store/link-store.ts';
import { LinkTracker } from './link-tracker.ts';

/** Wires the core from the runtime config with the module-level SDK clients (or the ones given). */
export function createTracker(
  config: RuntimeConfig,
  overrides: Partial<
    Pick<ConstructorParameters<typeof LinkTracker>[0], 'store' | 'upstream' | 'publisher'>
  > & {
    clock?: Clock;
    random?: () => number;
    log?: Log;
    metrics?: EmfWriter;
  } = {},
): LinkTracker {
  const upstream =
    overrides.upstream ??
    createInstantPayClient({
      credentials: instantPayCredentials({
        secretName: config.instantPaySecretName,
        maxAgeSeconds: config.secretMaxAgeSeconds,
      }),
      timeoutMs: config.upstreamTimeoutMs,
      ...(config.instantPayBaseUrl ? { baseUrl: config.instantPayBaseUrl } : {}),
      ...(overrides.clock ? { clock: overrides.clock } : {}),
    });
  return new LinkTracker({
    store: overrides.store ?? new LinkStore({ tableName: config.tableName }),
    publisher: overrides.publisher ?? new EventPublisher({ eventBusName: config.eventBusName }),
    upstream,
    config: { stage: config.stage, maskPersonalData: config.maskPersonalData, schedule: config.schedule },
    ...(overrides.clock ? { clock: overrides.clock } : {}),
    ...(overrides.random ? { random: overrides.random } : {}),
    ...(overrides.log ? { log: overrides.log } : {}),
    ...(overrides.metrics ? { metrics: overrides.metrics } : {}),
  });
}
