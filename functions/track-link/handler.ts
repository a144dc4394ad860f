import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { createApi } from './app.ts';

// Cold start: parse the environment once (failing fast with the variable's name) and build the
// clients once; everything else happens per request.
const config = loadRuntimeConfig();
const logger = createLogger('track-link');
// Its one metric (UpstreamFinalConflicts, rare) is an EMF line written by the core when it happens.
const metrics = createEmfWriter('track-link', config.stage);
const tracker = createTracker(config, { log: logger, metrics });
const api = createApi(tracker, logger);

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => api(event));
