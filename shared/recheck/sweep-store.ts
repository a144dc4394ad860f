import type { DueLink, OutboxStats } from '#shared/store/link-store.ts';
import type { LeaseStore } from './shard-leases.ts';

/** Where the next page of a shard's due links starts: opaque to the sweep, handed back as it came. */
export type DuePageKey = Record<string, unknown>;

/**
 * What a sweep reads and writes in the table itself, beside the checks it leaves to the tracker:
 * due links, the shards' leases, counts and the outbox figures. `LinkStore` implements it.
 */
export interface SweepStore extends LeaseStore {
  /** One page of a shard's due links (`nextCheckAt <= now`), oldest first. */
  queryDue(
    shard: string,
    now: number,
    limit: number,
    startKey?: DuePageKey,
  ): Promise<{ due: DueLink[]; lastKey: DuePageKey | undefined }>;
  /** How many links of a shard are due, from `startKey` on. */
  countDue(shard: string, now: number, startKey?: DuePageKey): Promise<number>;
  outboxStats(): Promise<OutboxStats>;
}
