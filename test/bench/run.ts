/**
 * `npm run bench`: runs every benchmark in order and prints one table (figure, value, target, the
 * limit it is measured against, pass or miss). `npm run bench -- --json` prints the same as one JSON
 * object on stdout, progress on stderr. Exits 0 even when a target is missed: the table says so.
 * A later benchmark adds itself to `BENCHMARKS`.
 */
import { apiLatency } from './api-latency.ts';
import { attemptLog } from './attempt-log.ts';
import { awsCalls } from './aws-calls.ts';
import { bundles, coldInit } from './bundles.ts';
import { cleanupAll, progress } from './cleanup.ts';
import { type Benchmark, type Figure, toJson, toTable } from './figures.ts';
import { load } from './load.ts';
import { pollingCost } from './polling-cost.ts';
import { putEventsBatching } from './put-events-batching.ts';
import { scheduledWrites } from './scheduled-writes.ts';
import { sweepThroughput } from './sweep-throughput.ts';

/** In the order of the table; cold init first, while no emulator or sandbox is running. */
const BENCHMARKS: readonly Benchmark[] = [
  bundles,
  coldInit,
  awsCalls,
  scheduledWrites,
  apiLatency,
  sweepThroughput,
  pollingCost,
  putEventsBatching,
  attemptLog,
  load,
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  // `--only NAME`: the benchmarks whose name contains NAME (case-insensitive), for working on one.
  const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '').toLowerCase() : '';
  const selected = BENCHMARKS.filter((benchmark) => benchmark.name.toLowerCase().includes(only));
  // Nothing but the result on stdout: a library that logs goes to stderr.
  console.log = console.error;
  console.info = console.error;
  // The SDK's notice that Node 20 support ends, once per client: noise in every benchmark.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

  const figures: Figure[] = [];
  const startedAt = performance.now();
  for (const benchmark of selected) {
    const began = performance.now();
    progress(`${benchmark.name}...`);
    try {
      figures.push(...(await benchmark.run()));
    } catch (error) {
      progress(
        `${benchmark.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`,
      );
      for (const { key, target, limit, unit } of benchmark.figures) {
        figures.push({
          key,
          value: Number.NaN,
          ...(target ? { target } : {}),
          ...(unit ? { unit } : {}),
          limit,
          note: `${benchmark.name} failed`,
        });
      }
    }
    progress(`${benchmark.name} took ${((performance.now() - began) / 1000).toFixed(1)} s`);
  }
  await cleanupAll();
  progress(`all benchmarks took ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);

  process.stdout.write(json ? `${JSON.stringify(toJson(figures), null, 2)}\n` : `${toTable(figures)}\n`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping what the benchmarks started`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

main()
  .catch(async (error: unknown) => {
    progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
    await cleanupAll();
    process.exitCode = 1;
  })
  .finally(() => {
    // Keep-alive sockets and timers of the SDK must not hold the process open.
    setTimeout(() => process.exit(), 100).unref();
  });
