import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { createApi } from './app.ts';

// Cold start: parse the environment once (failing fast with the variable's name) and build the
// clients once; everything else happens per request.
const logger = createLogger('track-link');
const tracker = createTracker(loadRuntimeConfig(), { log: logger });
const api = createApi(tracker, logger);

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => api(event));
