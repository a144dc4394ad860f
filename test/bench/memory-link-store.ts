import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LinkChange } from '#shared/link/link-event.ts';
import type { LinkObservation } from '#shared/link/link-observation.ts';
import type { LinkState } from '#shared/link/link-state.ts';
import type { DueLink, OutboxStats, SweepStore } from '#shared/recheck/sweep-store.ts';
import type { StoredChange } from '#shared/store/link-queries.ts';
import {
  dueShardOf,
  LinkStore,
  linkKey,
  type TouchOptions,
  type WriteResult,
} from '#shared/store/link-store.ts';

/** Any DynamoDB call the fake does not override fails loudly instead of reaching a real table. */
const noTable = {
  send() {
    throw new Error('MemoryLinkStore: this method has no in-memory version');
  },
} as unknown as DynamoDBDocumentClient;

interface ChangeRecord extends StoredChange {
  /** Present while unpublished: the outbox index's sort key. */
  outboxAt: number | null;
}

/** The due index's key of an item, as DynamoDB would hand it back in `LastEvaluatedKey`. */
interface DueKey {
  dueShard: string;
  nextCheckAt: number;
  pk: string;
  sk: string;
}

/**
 * The link table on a Map, for benchmarks that measure the sweep's own overhead: every method a
 * check or a recheck run uses, with the same conditions as {@link LinkStore} (the version, a new
 * link's `attribute_not_exists`, the shard leases, the unchanged-touch guard) and
 * the same sparse due index (sharded, oldest first, paged with a `lastKey` when a page is full).
 * States are copied in and out, as a round trip through DynamoDB would.
 */
export class MemoryLinkStore extends LinkStore implements SweepStore {
  private readonly links = new Map<string, LinkState>();
  private readonly changes = new Map<string, ChangeRecord>();
  private readonly leases = new Map<string, { holder: string; until: number }>();
  /** Counts of calls per method, so a benchmark can tell what a sweep cost. */
  readonly calls: Record<string, number> = {};

  constructor() {
    super({ tableName: 'memory', client: noTable });
  }

  override async getLink(linkId: string, _consistent = true): Promise<LinkState | null> {
    this.count('getLink');
    return this.read(linkId);
  }

  override async touchIfUnchanged(
    observed: LinkObservation,
    nextCheckAt: number | null,
    now: number,
    expiryGraceMs: number,
    options: TouchOptions = {},
  ): Promise<WriteResult> {
    this.count('touchIfUnchanged');
    const stored = this.links.get(observed.linkId);
    const watching = nextCheckAt !== null;
    const holds =
      stored !== undefined &&
      stored.status === observed.status &&
      stored.activity.length === observed.activity.length &&
      stored.amount === observed.amount &&
      stored.lastObservedAt !== null &&
      stored.lastObservedAt <= observed.startedAt &&
      (!options.onlyIfWatched || stored.nextCheckAt !== null) &&
      (!watching || stored.expiresAt === null || stored.expiresAt >= nextCheckAt - expiryGraceMs);
    if (!holds || stored === undefined) return { ok: false, current: this.read(observed.linkId) };
    const next: LinkState = {
      ...stored,
      lastObservedAt: observed.observedAt,
      lastCheckedAt: now,
      checks: stored.checks + 1,
      version: stored.version + 1,
      consecutiveErrors: 0,
      upstream: {
        statuscode: observed.statuscode,
        ipayUuid: observed.ipayUuid,
        environment: observed.environment,
        timestamp: observed.timestamp,
      },
      nextCheckAt: watching ? nextCheckAt : null,
    };
    this.links.set(next.linkId, next);
    return { ok: true, state: structuredClone(next) };
  }

  override async saveState(expectedVersion: number | null, next: LinkState): Promise<WriteResult> {
    this.count('saveState');
    if (!this.versionHolds(next.linkId, expectedVersion))
      return { ok: false, current: this.read(next.linkId) };
    this.links.set(next.linkId, structuredClone(next));
    return { ok: true, state: next };
  }

  override async commitChanges(
    expectedVersion: number | null,
    next: LinkState,
    changes: readonly LinkChange[],
    now: number,
  ): Promise<WriteResult> {
    this.count('commitChanges');
    // One transaction: every condition holds, or nothing is written.
    const fresh = changes.every((change) => !this.changes.has(changeId(change)));
    if (!this.versionHolds(next.linkId, expectedVersion) || !fresh) {
      return { ok: false, current: this.read(next.linkId) };
    }
    this.links.set(next.linkId, structuredClone(next));
    for (const change of changes) {
      this.changes.set(changeId(change), {
        detailType: change.detailType,
        detail: structuredClone(change.detail),
        recordedAt: now,
        publishedAt: null,
        outboxAt: now,
      });
    }
    return { ok: true, state: next };
  }

  async queryDue(
    shard: string,
    now: number,
    limit: number,
    startKey?: Record<string, unknown>,
  ): Promise<{ due: DueLink[]; lastKey: Record<string, unknown> | undefined }> {
    this.count('queryDue');
    const keys = this.dueKeys(shard, now, startKey as DueKey | undefined);
    const page = keys.slice(0, limit);
    const last = page.at(-1);
    return {
      due: page.map((key) => ({ linkId: key.pk.slice('LINK#'.length), nextCheckAt: key.nextCheckAt })),
      // DynamoDB answers a `LastEvaluatedKey` whenever the page is full, even when nothing follows.
      lastKey: page.length === limit && last ? { ...last } : undefined,
    };
  }

  async countDue(shard: string, now: number, startKey?: Record<string, unknown>): Promise<number> {
    this.count('countDue');
    return this.dueKeys(shard, now, startKey as DueKey | undefined).length;
  }

  async takeLease(shard: string, holder: string, until: number, now: number): Promise<boolean> {
    this.count('takeLease');
    const lease = this.leases.get(shard);
    if (lease && lease.until >= now && lease.holder !== holder) return false;
    this.leases.set(shard, { holder, until });
    return true;
  }

  async renewLease(shard: string, holder: string, until: number): Promise<boolean> {
    this.count('renewLease');
    const lease = this.leases.get(shard);
    if (lease?.holder !== holder) return false;
    lease.until = until;
    return true;
  }

  async releaseLease(shard: string, holder: string, _now: number): Promise<boolean> {
    this.count('releaseLease');
    const lease = this.leases.get(shard);
    if (lease?.holder !== holder) return false;
    lease.until = 0;
    return true;
  }

  override async markPublished(changes: readonly LinkChange[], at: number): Promise<number> {
    this.count('markPublished');
    for (const change of changes) {
      const record = this.changes.get(changeId(change));
      if (record) {
        record.publishedAt = at;
        record.outboxAt = null;
      }
    }
    return 0;
  }

  async outboxStats(): Promise<OutboxStats> {
    this.count('outboxStats');
    const waiting = [...this.changes.values()].filter((record) => record.outboxAt !== null);
    const oldest = Math.min(...waiting.map((record) => record.outboxAt ?? Infinity));
    return {
      backlog: waiting.length,
      oldestRecordedAt: Number.isFinite(oldest) ? oldest : null,
      quarantined: 0,
    };
  }

  async listUnpublished(limit: number): Promise<LinkChange[]> {
    this.count('listUnpublished');
    return [...this.changes.entries()]
      .filter(([, record]) => record.outboxAt !== null)
      .sort(([idA, a], [idB, b]) => (a.outboxAt ?? 0) - (b.outboxAt ?? 0) || idA.localeCompare(idB))
      .slice(0, limit)
      .map(([, record]) => ({ detailType: record.detailType, detail: structuredClone(record.detail) }));
  }

  async listChanges(linkId: string): Promise<StoredChange[]> {
    this.count('listChanges');
    const prefix = `${linkKey(linkId).pk}#`;
    return [...this.changes.entries()]
      .filter(([id]) => id.startsWith(prefix))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, { outboxAt: _outboxAt, ...record }]) => structuredClone(record));
  }

  private read(linkId: string): LinkState | null {
    const stored = this.links.get(linkId);
    return stored ? structuredClone(stored) : null;
  }

  /** `attribute_not_exists(pk)` for a new link, else `version = :version`. */
  private versionHolds(linkId: string, expectedVersion: number | null): boolean {
    const stored = this.links.get(linkId);
    return expectedVersion === null ? stored === undefined : stored?.version === expectedVersion;
  }

  /**
   * The due index of one shard from `startKey` on, oldest first: only watched links (a link with
   * no `nextCheckAt` is not in the sparse index) due by `now`.
   */
  private dueKeys(shard: string, now: number, startKey: DueKey | undefined): DueKey[] {
    const keys: DueKey[] = [];
    for (const state of this.links.values()) {
      if (state.nextCheckAt === null || state.nextCheckAt > now) continue;
      const dueShard = dueShardOf(state.linkId);
      if (dueShard !== shard) continue;
      const key = { dueShard, nextCheckAt: state.nextCheckAt, ...linkKey(state.linkId) };
      if (startKey && compareDue(key, startKey) <= 0) continue;
      keys.push(key);
    }
    return keys.sort(compareDue);
  }

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }
}

function compareDue(a: DueKey, b: DueKey): number {
  return a.nextCheckAt - b.nextCheckAt || a.pk.localeCompare(b.pk);
}

/** The change item's key, `LINK#<linkId>#<padded sequence>`, so a link's changes sort in order. */
function changeId(change: LinkChange): string {
  return `${linkKey(change.detail.linkId).pk}#${String(change.detail.sequence).padStart(10, '0')}`;
}
