import type { LinkChange } from '#shared/link/link-event.ts';
import type { LeaseStore } from './shard-leases.ts';

/** A due link as the due index gives it. */
export interface DueLink {
  linkId: string;
  nextCheckAt: number;
}

/** The outbox's health, for the metrics and the alarm. */
export interface OutboxStats {
  /** Changes recorded and not yet on the bus. */
  backlog: number;
  /** When the oldest of them was recorded; `null` when there is none. */
  oldestRecordedAt: number | null;
  /** Changes the bus refused for good, set aside for an operator. */
  quarantined: number;
}

/** Where the next page of a shard's due links starts: opaque to the sweep, handed back as it came. */
export type DuePageKey = Record<string, unknown>;

/**
 * What a sweep reads and writes in the table itself, beside the checks it leaves to the tracker:
 * due links, the shards' leases, counts, the outbox figures and its unpublished changes. `SweepQueries`
 * (`shared/store/sweep-queries.ts`) implements it.
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
  /** Changes recorded at or before `recordedBefore` and not yet published, oldest first. */
  listUnpublished(limit: number, recordedBefore?: number): Promise<LinkChange[]>;
}
