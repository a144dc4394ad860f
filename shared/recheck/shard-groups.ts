import { dueShardName } from '#shared/store/link-store.ts';
import { DUE_SHARDS } from '#shared/store/table-definition.ts';

/**
 * The due-index shards one run owns: shard `s` belongs to group `s mod parallelRuns`, so every
 * shard has exactly one owner and capacity grows by configuration (`RECHECK_PARALLEL_RUNS`).
 */
export function shardsForGroup(group: number, parallelRuns: number, totalShards = DUE_SHARDS): string[] {
  if (!Number.isInteger(parallelRuns) || parallelRuns < 1 || parallelRuns > totalShards) {
    throw new RangeError(`parallelRuns must be an integer from 1 to ${totalShards}`);
  }
  if (!Number.isInteger(group) || group < 0 || group >= parallelRuns) {
    throw new RangeError(`group must be an integer from 0 to ${parallelRuns - 1}`);
  }
  const shards: string[] = [];
  for (let shard = group; shard < totalShards; shard += parallelRuns) shards.push(dueShardName(shard));
  return shards;
}
