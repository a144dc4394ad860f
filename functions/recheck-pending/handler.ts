import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadRecheckConfig, loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { createMetrics } from '#shared/observability/metrics.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { createRecheck } from './app.ts';

// Cold start: parse the environment once and build the clients once.
const config = loadRuntimeConfig();
const logger = createLogger('recheck-pending');
const metrics = createMetrics('recheck-pending', config.stage);
const recheck = createRecheck(createTracker(config, { log: logger }), loadRecheckConfig(), logger, metrics);

export const handler = middy<unknown, unknown, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) => {
    await recheck(event, context);
  });
