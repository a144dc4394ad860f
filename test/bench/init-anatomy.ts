/**
 * Where the track-link handler's cold init and bundle go beyond its SDK-only floor: not part of
 * `npm run bench`, run it by hand (`npx tsx test/bench/init-anatomy.ts`) after a change to what the
 * handlers import. Each variant is the floor (the SDK clients of track-link, instantiated) plus one
 * piece of what the handler imports, bundled with the construct's options (`HOUSE_BUNDLING`); its
 * import time is measured inside a fresh `node` (`performance.now()` around `import()`, so node's
 * own start is left out), median of interleaved rounds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { HANDLER_ENV, HOUSE_BUNDLING, median } from './bundles.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = 21;

const FLOOR = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
export const clients = [DynamoDBDocumentClient.from(new DynamoDBClient({})), new EventBridgeClient({}), new SecretsManagerClient({})];
`;

const VARIANTS: ReadonlyArray<readonly [string, string]> = [
  ['floor: the SDK clients only', FLOOR],
  [
    "+ zod ('import * as z', one schema)",
    `${FLOOR}import * as z from 'zod'; export const s = z.object({ a: z.string().min(1), b: z.url().optional() }); s.parse({ a: 'x' });`,
  ],
  [
    '+ zod/mini (the same schema)',
    `${FLOOR}import * as z from 'zod/mini'; export const s = z.object({ a: z.string().check(z.minLength(1)), b: z.optional(z.url()) }); s.parse({ a: 'x' });`,
  ],
  [
    '+ Powertools Logger, middy and the logger middleware',
    `${FLOOR}import { Logger } from '@aws-lambda-powertools/logger'; import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'; import middy from '@middy/core';
const logger = new Logger({ serviceName: 'x' });
export const handler = middy().use(injectLambdaContext(logger)).handler(async () => 1);`,
  ],
  [
    '+ Powertools Metrics and its middleware (deliver-webhooks)',
    `${FLOOR}import { Metrics } from '@aws-lambda-powertools/metrics'; import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'; import middy from '@middy/core';
const metrics = new Metrics({ namespace: 'n', serviceName: 'x' });
export const handler = middy().use(logMetrics(metrics)).handler(async () => 1);`,
  ],
  [
    '+ every module of the handler that builds zod schemas',
    `${FLOOR}export * from '#shared/http/requests.ts'; export * from '#shared/instantpay/schemas.ts'; export * from '#shared/config/runtime-config.ts'; export * from '#shared/credentials/instantpay-credentials.ts';`,
  ],
  [
    '+ the API and the tracker, without Powertools and middy',
    `${FLOOR}import { createApi } from '#functions/track-link/app.ts'; import { loadRuntimeConfig } from '#shared/config/runtime-config.ts'; import { LinkQueries } from '#shared/store/link-queries.ts'; import { LinkStore } from '#shared/store/link-store.ts'; import { createTracker } from '#shared/tracker/create-tracker.ts'; import { LinkRequests } from '#shared/tracker/link-requests.ts';
const config = loadRuntimeConfig(); const store = new LinkStore({ tableName: config.tableName });
export const api = createApi(new LinkRequests({ tracker: createTracker(config, { store }), store, queries: new LinkQueries({ tableName: config.tableName }) }), console);`,
  ],
  ['the handler: functions/track-link/handler.ts', "export * from '#functions/track-link/handler.ts';"],
];

function importMs(file: string): number {
  const env: Record<string, string> = { ...HANDLER_ENV };
  if (process.env.PATH) env.PATH = process.env.PATH;
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`importing ${file} failed: ${result.stderr.slice(0, 500)}`);
  return Number(result.stdout);
}

const dir = await mkdtemp(join(tmpdir(), 'init-anatomy-'));
try {
  const files: Array<{ name: string; file: string; kb: number; times: number[] }> = [];
  for (const [index, [name, contents]] of VARIANTS.entries()) {
    const file = join(dir, String(index), 'index.mjs');
    await build({
      ...HOUSE_BUNDLING,
      stdin: { contents, resolveDir: ROOT, loader: 'ts', sourcefile: 'variant.ts' },
      outfile: file,
    });
    files.push({ name, file, kb: (await stat(file)).size / 1024, times: [] });
  }
  for (const variant of files) importMs(variant.file);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < files.length; i++) {
      const variant = files[(i + round) % files.length]!;
      variant.times.push(importMs(variant.file));
    }
  }
  const floor = median(files[0]!.times);
  const width = Math.max(...files.map((variant) => variant.name.length));
  console.log(`${'variant'.padEnd(width)} | bundle KB | import ms (median of ${ROUNDS}) | over the floor`);
  for (const variant of files) {
    const ms = median(variant.times);
    console.log(
      `${variant.name.padEnd(width)} | ${variant.kb.toFixed(1).padStart(9)} | ${ms.toFixed(1).padStart(25)} | ${(ms - floor).toFixed(1).padStart(8)} ms`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
