import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadDiscoveryConfig } from '#shared/config/discovery-config.ts';
import { type Env, loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { instantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import { DiscoveryStore } from '#shared/discovery/discovery-store.ts';
import { createInstantPayClient } from '#shared/instantpay/client.ts';
import { createInstantPayListClient } from '#shared/instantpay/list-client.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { FUNCTION_NAMES } from '#shared/resource-names.ts';
import { LinkStore } from '#shared/store/link-store.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { LinkRegistrations } from '#shared/tracker/link-registrations.ts';
import { createDiscovery } from './app.ts';

export type DiscoverHandler = (event: unknown, context: Context) => Promise<void>;

/** The `discover-links` handler, built once from the function's environment: the config and the clients. */
export function createDiscoverHandler(env: Env): DiscoverHandler {
  const config = loadRuntimeConfig(env);
  const discoveryConfig = loadDiscoveryConfig(env);
  const logger = createLogger(FUNCTION_NAMES.discoverLinks, env);
  const metrics = createEmfWriter(FUNCTION_NAMES.discoverLinks, config.stage, { env });
  // List and the registrations' Track share one credentials cache (and the module's keep-alive pool).
  const upstreamOptions = {
    credentials: instantPayCredentials({
      secretName: config.instantPaySecretName,
      maxAgeSeconds: config.secretMaxAgeSeconds,
    }),
    timeoutMs: config.upstreamTimeoutMs,
    ...(config.instantPayBaseUrl ? { baseUrl: config.instantPayBaseUrl } : {}),
  };
  const upstream = createInstantPayClient(upstreamOptions);
  const store = new LinkStore({ tableName: config.tableName });
  const discover = createDiscovery(
    {
      registrations: new LinkRegistrations({
        tracker: createTracker(config, { store, upstream, log: logger, metrics }),
        store,
      }),
      upstream: createInstantPayListClient(upstreamOptions),
      store: new DiscoveryStore({ tableName: config.tableName }),
    },
    discoveryConfig,
    logger,
    metrics,
  );
  return middy<unknown, unknown, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      await discover(event, context);
    });
}
