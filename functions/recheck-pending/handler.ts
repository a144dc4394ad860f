import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadRecheckConfig, loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { LinkStore } from '#shared/store/link-store.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { createRecheck } from './app.ts';

// Cold start: parse the environment once and build the clients once.
const config = loadRuntimeConfig();
const logger = createLogger('recheck-pending');
// Its metrics are one EMF line per run, written by the run itself (no Powertools Metrics).
const metrics = createEmfWriter('recheck-pending', config.stage);
const store = new LinkStore({ tableName: config.tableName });
const recheck = createRecheck(
  { tracker: createTracker(config, { store, log: logger, metrics }), store },
  loadRecheckConfig(),
  logger,
  metrics,
);

export const handler = middy<unknown, unknown, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event, context) => {
    await recheck(event, context);
  });
