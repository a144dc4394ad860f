/**
 * What the benchmarks started (the sandbox, moto) and must stop, even when a benchmark throws or the
 * run is interrupted: each registers its closer, `run.ts` calls the ones left over.
 */
const closers = new Set<() => Promise<void>>();

/** Registers a closer; the returned function runs it once and forgets it. */
export function onCleanup(close: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => {
    done ??= close().catch((error: unknown) => {
      process.stderr.write(`cleanup failed: ${String(error)}\n`);
    });
    closers.delete(once);
    return done;
  };
  closers.add(once);
  return once;
}

/** Runs every closer still registered. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...closers].map((close) => close()));
}

/** Progress goes to stderr, so `--json` leaves stdout to the JSON. */
export function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}
