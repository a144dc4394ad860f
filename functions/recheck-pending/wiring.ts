import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadRecheckConfig } from '#shared/config/recheck-config.ts';
import { type Env, loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { createLogger } from '#shared/observability/logger.ts';
import { FUNCTION_NAMES } from '#shared/resource-names.ts';
import { LinkStore } from '#shared/store/link-store.ts';
import { SweepQueries } from '#shared/store/sweep-queries.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { createRecheck } from './app.ts';

export type RecheckHandler = (event: unknown, context: Context) => Promise<void>;

/** The `recheck-pending` handler, built once from the function's environment: the config and the clients. */
export function createRecheckHandler(env: Env): RecheckHandler {
  const config = loadRuntimeConfig(env);
  const logger = createLogger(FUNCTION_NAMES.recheckPending, env);
  // Its metrics are one EMF line per run, written by the run itself (no Powertools Metrics).
  const metrics = createEmfWriter(FUNCTION_NAMES.recheckPending, config.stage, { env });
  const store = new LinkStore({ tableName: config.tableName });
  const recheck = createRecheck(
    {
      tracker: createTracker(config, { store, log: logger, metrics }),
      store: new SweepQueries({ tableName: config.tableName }),
    },
    loadRecheckConfig(env),
    logger,
    metrics,
  );
  return middy<unknown, unknown, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      await recheck(event, context);
    });
}
