import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type Env, loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { FUNCTION_NAMES } from '#shared/resource-names.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
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
  const logger = createLogger(FUNCTION_NAMES.trackLink, env);
  // Its one metric (UpstreamFinalConflicts, rare) is an EMF line written by the core when it happens.
  const metrics = createEmfWriter(FUNCTION_NAMES.trackLink, config.stage, { env });
  const api = createApi(createTracker(config, { log: logger, metrics }), logger);
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event) => api(event));
}
