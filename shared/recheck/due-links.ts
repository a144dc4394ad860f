import type { DueLink, DuePageKey, SweepStore } from './sweep-store.ts';

interface ShardCursor {
  shard: string;
  buffer: DueLink[];
  lastKey: DuePageKey | undefined;
  exhausted: boolean;
}

/** A due link and the shard it came from. */
export interface ShardDueLink extends DueLink {
  shard: string;
}

/**
 * Due links of several shards, merged oldest first, read a page at a time. Safe for concurrent
 * callers: each `next()` hands out a different link.
 */
export class DueLinks {
  private cursors: ShardCursor[] | undefined;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Pick<SweepStore, 'queryDue'>,
    private readonly shards: readonly string[],
    private readonly now: number,
    private readonly pageSize = 100,
  ) {}

  next(): Promise<ShardDueLink | undefined> {
    const turn = this.lock.then(() => this.take());
    this.lock = turn.catch(() => {});
    return turn;
  }

  /** Hands out nothing more of this shard (its lease is lost): what is left is its holder's. */
  drop(shard: string): void {
    for (const cursor of this.cursors ?? []) {
      if (cursor.shard !== shard) continue;
      cursor.buffer = [];
      cursor.exhausted = true;
      cursor.lastKey = undefined;
    }
  }

  private async take(): Promise<ShardDueLink | undefined> {
    if (!this.cursors) {
      this.cursors = this.shards.map((shard) => ({
        shard,
        buffer: [],
        lastKey: undefined,
        exhausted: false,
      }));
      await Promise.all(this.cursors.map((cursor) => this.refill(cursor)));
    }
    let oldest: ShardCursor | undefined;
    for (const cursor of this.cursors) {
      const head = cursor.buffer[0];
      if (head && (!oldest || head.nextCheckAt < (oldest.buffer[0]?.nextCheckAt ?? Infinity)))
        oldest = cursor;
    }
    if (!oldest) return undefined;
    const link = oldest.buffer.shift();
    // Keep every non-exhausted shard's head in memory so the merge stays oldest first.
    if (oldest.buffer.length === 0 && !oldest.exhausted) await this.refill(oldest);
    return link && { ...link, shard: oldest.shard };
  }

  /**
   * What is left when a run stops: links read but not handed out, the oldest of them, and the
   * shards with pages not read yet (their `lastKey` to count from).
   */
  remaining(): {
    buffered: number;
    oldest: number | null;
    unread: Array<{ shard: string; startKey: DuePageKey }>;
  } {
    let buffered = 0;
    let oldest: number | null = null;
    const unread: Array<{ shard: string; startKey: DuePageKey }> = [];
    for (const cursor of this.cursors ?? []) {
      buffered += cursor.buffer.length;
      const head = cursor.buffer[0]?.nextCheckAt;
      if (head !== undefined && (oldest === null || head < oldest)) oldest = head;
      if (!cursor.exhausted && cursor.lastKey) unread.push({ shard: cursor.shard, startKey: cursor.lastKey });
    }
    return { buffered, oldest, unread };
  }

  private async refill(cursor: ShardCursor): Promise<void> {
    // A page may come back empty with more to read: keep reading until there is a head or no more.
    do {
      const page = await this.store.queryDue(cursor.shard, this.now, this.pageSize, cursor.lastKey);
      cursor.buffer.push(...page.due);
      cursor.lastKey = page.lastKey;
      cursor.exhausted = page.lastKey === undefined;
    } while (cursor.buffer.length === 0 && !cursor.exhausted);
  }
}
