import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type Env, loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { FUNCTION_NAMES } from '#shared/resource-names.ts';
import { DeliveryLog } from '#shared/store/delivery-log.ts';
import { LinkQueries } from '#shared/store/link-queries.ts';
import { LinkStore } from '#shared/store/link-store.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { LinkRequests } from '#shared/tracker/link-requests.ts';
import { DeliveryAdmin } from '#shared/webhooks/delivery-admin.ts';
import { loadDeliveryAdminConfig } from '#shared/webhooks/delivery-config.ts';
import { SqsDeliveryQueue } from '#shared/webhooks/delivery-queue.ts';
import { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { createApi } from './app.ts';

export type TrackLinkHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The `track-link` handler, built once from the function's environment (failing fast with the
 * variable's name): the config, the clients, the logger; everything else happens per request.
 */
export function createTrackLinkHandler(env: Env): TrackLinkHandler {
  const config = loadRuntimeConfig(env);
  const webhooks = loadDeliveryAdminConfig(env);
  const logger = createLogger(FUNCTION_NAMES.trackLink, env);
  // Its one metric (UpstreamFinalConflicts, rare) is an EMF line written by the core when it happens.
  const metrics = createEmfWriter(FUNCTION_NAMES.trackLink, config.stage, { env });
  const store = new LinkStore({ tableName: config.tableName });
  const queries = new LinkQueries({ tableName: config.tableName });
  const deliveries = new DeliveryAdmin({
    targets: webhooks.targets,
    attempts: new DeliveryLog(webhooks.deliveriesTableName),
    state: new SubscriberStateStore(config.tableName, { cacheMs: 0 }),
    queue: new SqsDeliveryQueue(),
    links: store,
    changes: queries,
  });
  const tracker = createTracker(config, { log: logger, metrics, store });
  const api = createApi(new LinkRequests({ tracker, store, queries }), logger, deliveries);
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event) => api(event));
}
