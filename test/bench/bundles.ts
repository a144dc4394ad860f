/**
 * Bundles and cold init (issue 8).
 *
 * `bundleKb.<fn>`: the size of the `.js` esbuild writes for `functions/<fn>/handler.ts` with the
 * options of the house function construct (`infra/constructs/tracker-function.ts`), the file
 * `cdk synth` deploys; the source map is a file of its own and is not counted.
 * `bundleRatio.<fn>`: that size over the size of a bundle of only the AWS SDK clients the handler
 * bundle contains (read off its metafile), each client instantiated and exported so nothing is
 * tree-shaken away: the floor of any bundled function that talks to those services.
 *
 * `initRatio.<fn>`: median wall time of a fresh `node` running the bundle (an ESM entry point: the
 * module is imported, its top level runs, the process exits) over the same for the floor bundle,
 * every bundle once per round, rounds interleaved so the machine's noise falls on all alike. The
 * environment holds what the handlers read at import and nothing of the parent's (no
 * `NODE_OPTIONS`). The same with `--enable-source-maps`, which the construct sets in
 * `NODE_OPTIONS`, is printed beside it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import {
  HOUSE_BUNDLING as CONSTRUCT_BUNDLING,
  HOUSE_NODE_OPTIONS,
} from '#infra/constructs/tracker-function.ts';
import { onCleanup, progress } from './cleanup.ts';
import { atMost, type Benchmark, type Figure } from './figures.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The esbuild options `cdk synth` runs for a house function, derived from the construct's own
 * `HOUSE_BUNDLING` (`infra/constructs/tracker-function.ts`) the way `NodejsFunction` turns them into
 * `esbuild --bundle --platform=node --target=... --format=... --minify --sourcemap
 * --sources-content=false --tsconfig=... --main-fields=...` with no `--external` (`externalModules:
 * []`, `bundleAwsSDK: true`). An option this does not know fails the run rather than being measured
 * without it.
 */
export function esbuildOptionsOf(bundling: typeof CONSTRUCT_BUNDLING): BuildOptions {
  const unknown = Object.keys(bundling).filter((key) => !TRANSLATED.has(key));
  if (unknown.length > 0) {
    throw new Error(`bundles.ts does not translate the construct's bundling option(s) ${unknown.join(', ')}`);
  }
  if (!bundling.bundleAwsSDK)
    throw new Error('the construct no longer bundles the AWS SDK: measure it external');
  return {
    bundle: true,
    platform: 'node',
    format: bundling.format,
    target: bundling.target,
    minify: bundling.minify,
    // `SourceMapMode.DEFAULT` is esbuild's plain `--sourcemap`: a linked `.map` beside the `.js`.
    sourcemap: bundling.sourceMap && (bundling.sourceMapMode === 'default' ? true : bundling.sourceMapMode),
    sourcesContent: bundling.sourcesContent,
    mainFields: bundling.mainFields,
    external: [...bundling.externalModules],
    tsconfig: bundling.tsconfig,
    logLevel: 'error',
  };
}

/** The construct's options `esbuildOptionsOf` knows; `forceDockerBundling` says where esbuild runs, not what it writes. */
const TRANSLATED = new Set([
  'format',
  'mainFields',
  'target',
  'minify',
  'sourceMap',
  'sourceMapMode',
  'sourcesContent',
  'externalModules',
  'bundleAwsSDK',
  'forceDockerBundling',
  'tsconfig',
]);

/** The construct's bundling as esbuild options: what every bundle of the benchmark is built with. */
export const HOUSE_BUNDLING: BuildOptions = esbuildOptionsOf(CONSTRUCT_BUNDLING);

/** Whether the construct sets `--enable-source-maps`, so `withSourceMaps` is what deploys. */
const HOUSE_SOURCE_MAPS = HOUSE_NODE_OPTIONS.split(/\s+/).includes('--enable-source-maps');

export const FUNCTIONS = [
  { key: 'trackLink', entry: 'functions/track-link/handler.ts' },
  { key: 'recheckPending', entry: 'functions/recheck-pending/handler.ts' },
  { key: 'deliverWebhooks', entry: 'functions/deliver-webhooks/handler.ts' },
] as const;
type FunctionKey = (typeof FUNCTIONS)[number]['key'];

/** How each SDK package the handlers use is instantiated in a floor bundle. */
const SDK_CLIENTS: Record<string, { imports: string; instance: string }> = {
  '@aws-sdk/client-dynamodb': {
    imports: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
    instance: 'new DynamoDBClient({})',
  },
  '@aws-sdk/lib-dynamodb': {
    imports: "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
    instance: 'DynamoDBDocumentClient.from(new DynamoDBClient({}))',
  },
  '@aws-sdk/client-eventbridge': {
    imports: "import { EventBridgeClient } from '@aws-sdk/client-eventbridge';",
    instance: 'new EventBridgeClient({})',
  },
  '@aws-sdk/client-secrets-manager': {
    imports: "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';",
    instance: 'new SecretsManagerClient({})',
  },
  '@aws-sdk/client-sqs': {
    imports: "import { SQSClient } from '@aws-sdk/client-sqs';",
    instance: 'new SQSClient({})',
  },
};

export interface BuiltBundle {
  /** The `.mjs` file. */
  file: string;
  bytes: number;
  /** Output bytes per origin (a package, or `own code`). */
  origins: Map<string, number>;
}

export interface BuiltFunction {
  key: FunctionKey;
  bundle: BuiltBundle;
  /** The SDK packages the handler bundle contains: what its floor instantiates. */
  clients: string[];
  floor: BuiltBundle;
}

export interface BuiltBundles {
  functions: BuiltFunction[];
}

let built: Promise<BuiltBundles> | undefined;

/** Builds the three handlers and their floors once per run, into a temporary directory. */
export function buildBundles(): Promise<BuiltBundles> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-bundles-'));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    const floors = new Map<string, Promise<BuiltBundle>>();
    const functions: BuiltFunction[] = [];
    for (const fn of FUNCTIONS) {
      const bundle = await buildOne(join(dir, fn.key), { entryPoints: [join(ROOT, fn.entry)] });
      const clients = sdkClientsOf(bundle);
      const floorKey = clients.join('+');
      let floor = floors.get(floorKey);
      if (!floor) {
        floor = buildOne(join(dir, `floor-${floors.size + 1}`), {
          stdin: { contents: floorSource(clients), resolveDir: ROOT, loader: 'ts', sourcefile: 'floor.ts' },
        });
        floors.set(floorKey, floor);
      }
      functions.push({ key: fn.key, bundle, clients, floor: await floor });
    }
    return { functions };
  })();
  return built;
}

async function buildOne(outdir: string, input: BuildOptions): Promise<BuiltBundle> {
  const file = join(outdir, 'index.mjs');
  const result = await build({ ...HOUSE_BUNDLING, ...input, outfile: file, metafile: true });
  const output =
    result.metafile.outputs[Object.keys(result.metafile.outputs).find((o) => o.endsWith('.mjs'))!];
  const origins = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const origin = originOf(path);
    origins.set(origin, (origins.get(origin) ?? 0) + bytesInOutput);
  }
  return { file, bytes: (await stat(file)).size, origins };
}

/** The package an input belongs to (the innermost `node_modules`), else `own code`. */
function originOf(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  if (at < 0) return 'own code';
  const rest = path.slice(at + 'node_modules/'.length).split('/');
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? path);
}

function sdkClientsOf(bundle: BuiltBundle): string[] {
  const clients = [...bundle.origins.keys()].filter((origin) => origin in SDK_CLIENTS).sort();
  const unknown = [...bundle.origins.keys()].filter(
    (origin) => /^@aws-sdk\/client-/.test(origin) && !(origin in SDK_CLIENTS),
  );
  if (unknown.length > 0) throw new Error(`no floor known for ${unknown.join(', ')}: add it to SDK_CLIENTS`);
  return clients;
}

function floorSource(clients: readonly string[]): string {
  // The document client wraps a DynamoDB client: import that too, whatever the order.
  const packages = clients.includes('@aws-sdk/lib-dynamodb')
    ? [...new Set(['@aws-sdk/client-dynamodb', ...clients])]
    : [...clients];
  const instances = clients
    .filter((name) => !(name === '@aws-sdk/client-dynamodb' && clients.includes('@aws-sdk/lib-dynamodb')))
    .map((name) => SDK_CLIENTS[name]?.instance);
  return [
    ...packages.map((name) => SDK_CLIENTS[name]?.imports),
    `export const clients = [${instances.join(', ')}];`,
  ].join('\n');
}

/**
 * What the handler bundle has beyond its floor, largest first: the AWS SDK packages together (the
 * commands and their serde, which the floor's bare clients do not pull in), the others by package.
 */
export function aboveFloor(fn: BuiltFunction): Array<{ origin: string; bytes: number }> {
  const group = (origin: string) =>
    /^@(aws-sdk|smithy|aws)\//.test(origin) || origin === 'mnemonist' || origin === 'tslib'
      ? 'AWS SDK commands'
      : origin.startsWith('@aws-lambda-powertools/')
        ? '@aws-lambda-powertools'
        : origin;
  const sum = (origins: Map<string, number>) => {
    const groups = new Map<string, number>();
    for (const [origin, bytes] of origins)
      groups.set(group(origin), (groups.get(group(origin)) ?? 0) + bytes);
    return groups;
  };
  const mine = sum(fn.bundle.origins);
  const floor = sum(fn.floor.origins);
  return [...mine]
    .map(([origin, bytes]) => ({ origin, bytes: bytes - (floor.get(origin) ?? 0) }))
    .filter((entry) => entry.bytes > 512)
    .sort((a, b) => b.bytes - a.bytes);
}

const kb = (bytes: number) => bytes / 1024;
// Issue 18: the kit keeps Powertools Logger, middy and zod/mini above the same floor.
const BUNDLE_RATIO_TARGET = atMost(1.3);
const BUNDLE_LIMIT = 'bundle of only the SDK clients the function uses';
const OWN_CODE_LIMIT = "the bundle's bytes from this repository (not node_modules), minified";

async function bundleFigures(): Promise<Figure[]> {
  progress('building the three handlers and their SDK-only floors with the construct options');
  const { functions } = await buildBundles();
  const figures: Figure[] = [];
  for (const fn of functions) {
    const above = aboveFloor(fn)
      .slice(0, 5)
      .map(({ origin, bytes }) => `${origin} +${kb(bytes).toFixed(0)}`)
      .join(', ');
    figures.push({
      key: `bundleKb.${fn.key}`,
      value: kb(fn.bundle.bytes),
      unit: 'KB',
      limit: 'esbuild output .js (map not counted), construct options',
      note: `the construct's HOUSE_BUNDLING: ${HOUSE_BUNDLING.minify ? 'minified ' : ''}${HOUSE_BUNDLING.format?.toUpperCase()}, ${HOUSE_BUNDLING.target}, SDK bundled`,
    });
    figures.push({
      key: `bundleRatio.${fn.key}`,
      value: fn.bundle.bytes / fn.floor.bytes,
      target: BUNDLE_RATIO_TARGET,
      limit: BUNDLE_LIMIT,
      note: `floor ${kb(fn.floor.bytes).toFixed(1)} KB (${fn.clients.map((c) => c.replace('@aws-sdk/', '')).join(', ')}); above it, KB: ${above}`,
    });
    figures.push({
      key: `ownCodeKb.${fn.key}`,
      value: kb(fn.bundle.origins.get('own code') ?? 0),
      unit: 'KB',
      limit: OWN_CODE_LIMIT,
      note: `of ${kb(fn.bundle.bytes).toFixed(0)} KB; the rest is packages`,
    });
  }
  return figures;
}

export const bundles: Benchmark = {
  name: 'bundles',
  figures: FUNCTIONS.flatMap((fn) => [
    { key: `bundleKb.${fn.key}`, limit: 'esbuild output .js', unit: 'KB' },
    { key: `bundleRatio.${fn.key}`, target: BUNDLE_RATIO_TARGET, limit: BUNDLE_LIMIT },
    { key: `ownCodeKb.${fn.key}`, limit: OWN_CODE_LIMIT, unit: 'KB' },
  ]),
  run: bundleFigures,
};

/** Rounds of the cold-init measurement: every bundle once per round, in both modes. */
const INIT_ROUNDS = 25;
// Issue 18: as the bundle ratio, room for the kit (Powertools Logger, middy, zod/mini).
const INIT_RATIO_TARGET = atMost(1.2);
const INIT_LIMIT = 'fresh node importing the SDK-clients-only bundle';

/** What the handlers read at import, as the construct and the stack set it, and nothing else. */
export const HANDLER_ENV: Record<string, string> = {
  STAGE: 'bench',
  TABLE_NAME: 'payout-link-tracker-bench-links',
  EVENT_BUS_NAME: 'payout-link-tracker-bench',
  INSTANTPAY_SECRET_NAME: 'payout-link-tracker/bench/instantpay',
  DELIVERIES_TABLE_NAME: 'payout-link-tracker-bench-deliveries',
  WEBHOOK_SUBSCRIBERS: '[]',
  AWS_REGION: 'ap-south-1',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  POWERTOOLS_METRICS_NAMESPACE: 'PayoutLinkTracker',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

/** Wall time of one fresh `node` running `file`, in ms. */
function timeNode(file: string, sourceMaps: boolean): number {
  const env: Record<string, string> = { ...HANDLER_ENV };
  if (process.env.PATH) env.PATH = process.env.PATH;
  const args = sourceMaps ? ['--enable-source-maps', file] : [file];
  const startedAt = performance.now();
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - startedAt;
  if (result.status !== 0) {
    throw new Error(
      `node ${args.join(' ')} exited with ${result.status ?? result.signal}: ${String(result.stderr).slice(0, 500)}`,
    );
  }
  return ms;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function initFigures(): Promise<Figure[]> {
  const { functions } = await buildBundles();
  const files = [...new Set(functions.flatMap((fn) => [fn.bundle.file, fn.floor.file]))];
  // `node` doing nothing: the part of every figure that no bundle can change.
  const empty = join(tmpdir(), `bench-empty-${process.pid}.mjs`);
  await writeFile(empty, '');
  onCleanup(() => rm(empty, { force: true }));
  const runs = [...files, empty].flatMap((file) => [
    { file, sourceMaps: false },
    { file, sourceMaps: true },
  ]);
  const times = new Map(runs.map((run) => [`${run.file}|${run.sourceMaps}`, [] as number[]]));
  progress(`cold init: ${INIT_ROUNDS} rounds of ${runs.length} fresh node processes`);
  for (const run of runs) timeNode(run.file, run.sourceMaps); // file system cache warm, errors early
  for (let round = 0; round < INIT_ROUNDS; round++) {
    // Rotate the order each round, so no bundle always follows the same one.
    for (let i = 0; i < runs.length; i++) {
      const run = runs[(i + round) % runs.length]!;
      times.get(`${run.file}|${run.sourceMaps}`)!.push(timeNode(run.file, run.sourceMaps));
    }
  }
  const med = (file: string, sourceMaps: boolean) => median(times.get(`${file}|${sourceMaps}`)!);
  /**
   * The median of the per-round ratios: a bundle and its floor are timed in the same round, within a
   * second or two of each other, so a slow spell of the machine falls on both (a ratio of the two
   * medians mixed rounds, and moved by 0.15 between two runs on a busy machine).
   */
  const ratio = (file: string, floorFile: string, sourceMaps: boolean) => {
    const a = times.get(`${file}|${sourceMaps}`)!;
    const b = times.get(`${floorFile}|${sourceMaps}`)!;
    return median(a.map((ms, round) => ms / b[round]!));
  };
  const nodeAlone = med(empty, false);

  const figures: Figure[] = [];
  for (const fn of functions) {
    const handler = med(fn.bundle.file, false);
    const floor = med(fn.floor.file, false);
    const handlerMapped = med(fn.bundle.file, true);
    const floorMapped = med(fn.floor.file, true);
    figures.push(
      {
        key: `initRatio.${fn.key}`,
        value: ratio(fn.bundle.file, fn.floor.file, false),
        target: INIT_RATIO_TARGET,
        limit: INIT_LIMIT,
        note: `median of ${INIT_ROUNDS} per-round ratios; medians ${handler.toFixed(0)} ms / ${floor.toFixed(0)} ms; node alone ${nodeAlone.toFixed(0)} ms`,
      },
      {
        key: 'beyondNodeStart',
        of: `initRatio.${fn.key}`,
        value: (handler - nodeAlone) / (floor - nodeAlone),
        limit: 'the same with the time of node alone taken off both',
        note: `${(handler - nodeAlone).toFixed(0)} ms / ${(floor - nodeAlone).toFixed(0)} ms`,
      },
      {
        key: 'withSourceMaps',
        of: `initRatio.${fn.key}`,
        value: ratio(fn.bundle.file, fn.floor.file, true),
        limit: `both with --enable-source-maps (${HOUSE_SOURCE_MAPS ? 'the construct sets it in NODE_OPTIONS' : 'not set by the construct'})`,
        note: `${handlerMapped.toFixed(0)} ms / ${floorMapped.toFixed(0)} ms; the flag adds ${(handlerMapped - handler).toFixed(0)} ms to the handler`,
      },
    );
  }
  return figures;
}

export const coldInit: Benchmark = {
  name: 'cold init',
  figures: FUNCTIONS.map((fn) => ({
    key: `initRatio.${fn.key}`,
    target: INIT_RATIO_TARGET,
    limit: INIT_LIMIT,
  })),
  run: initFigures,
};
