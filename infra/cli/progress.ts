import { progressBar } from '#infra/ops/progress.ts';
import type { Io } from './command.ts';

/**
 * The operator commands' progress bar (`infra/ops/progress.ts`), fed at a sane pace: on a terminal at
 * most every 100 ms, in a log (not a terminal) once per 10 %, and always at the end.
 */
export function throttledProgress(label: string, io: Io, now: () => number = Date.now) {
  const bar = progressBar(label, io.stderr as NodeJS.WriteStream);
  let lastAt = -Infinity;
  let lastTenth = -1;
  return {
    update(done: number, total: number) {
      const finished = done >= total;
      if (io.stderr.isTTY) {
        if (!finished && now() - lastAt < 100) return;
        lastAt = now();
      } else {
        const tenth = total > 0 ? Math.floor((done / total) * 10) : 10;
        if (!finished && tenth === lastTenth) return;
        lastTenth = tenth;
      }
      bar.update(done, total);
    },
    done() {
      bar.done();
    },
  };
}

/** Runs `work` over `items` with at most `limit` at a time; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
