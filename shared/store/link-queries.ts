import { createHash } from 'node:crypto';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DetailType, LinkEventDetail } from '#shared/link/link-event.ts';
import type { LinkState } from '#shared/link/link-state.ts';
import * as z from '#shared/zod.ts';
import {
  type LinkStoreOptions,
  type ListState,
  linkKey,
  linkStateOf,
  sharedDocumentClient,
} from './link-store.ts';
import {
  EVENT_ID_INDEX,
  type IndexDefinition,
  REFERENCE_INDEX,
  STATE_INDEX,
  STATUS_INDEX,
} from './table-definition.ts';

/**
 * Which links a listing holds: by list state alone (`byState`), or by InstantPay status or by the
 * merchant's reference (`byStatus`, `byReference`), either one with a list state or without.
 */
export type LinkFilter =
  | { state: ListState; status?: undefined; reference?: undefined }
  | { status: string; state?: ListState; reference?: undefined }
  | { reference: string; state?: ListState; status?: undefined };

/** Event ids looked up at once on the byEventId index (a resend names at most 100). */
const FIND_CONCURRENCY = 10;

/** One page of a listing; `nextCursor` (opaque to callers) asks for the next, `null` on the last page. */
export interface LinkPage {
  links: LinkState[];
  nextCursor: string | null;
}

/** A cursor this listing never returned (another listing's, altered, or not one at all). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor() {
    super('The cursor is not one this listing returned.');
  }
}

export interface StoredChange {
  detailType: DetailType;
  detail: LinkEventDetail;
  recordedAt: number;
  publishedAt: number | null;
}

function storedChangeOf(item: Record<string, unknown>): StoredChange {
  return {
    detailType: item.detailType as DetailType,
    detail: item.detail as LinkEventDetail,
    recordedAt: item.recordedAt as number,
    publishedAt: (item.publishedAt as number | undefined) ?? null,
  };
}

/**
 * What the API reads of the link table beside a link's state (`LinkStore`): listings from the
 * indexes, a link's recorded changes, and changes by event id (a resend). The list cursor is made
 * and read here only, opaque to everyone else.
 */
export class LinkQueries {
  readonly tableName: string;
  private readonly db: DynamoDBDocumentClient;

  constructor(options: LinkStoreOptions) {
    this.tableName = options.tableName;
    this.db = options.client ?? sharedDocumentClient();
  }

  /** A link's recorded changes, oldest first. */
  async listChanges(linkId: string): Promise<StoredChange[]> {
    const changes: StoredChange[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': linkKey(linkId).pk, ':prefix': 'CHANGE#' },
          ScanIndexForward: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        changes.push(storedChangeOf(item));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return changes;
  }

  /**
   * Links matching a filter, a page at a time, from an index (never a scan): by list state on
   * `byState` (ordered by link id), by status or reference on `byStatus`/`byReference` (ordered by
   * list state, then link id; a state narrows the key). The cursor is opaque and bound to its filter:
   * one of another listing, altered, or not one at all is an {@link InvalidCursorError}, before any read.
   */
  async listLinks(filter: LinkFilter, limit: number, cursor?: string): Promise<LinkPage> {
    const query = listingQuery(filter);
    const startKey = cursor === undefined ? undefined : query.decodeCursor(cursor);
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: query.index.indexName,
        KeyConditionExpression: query.keyCondition,
        ExpressionAttributeValues: query.values,
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    const keys = (page.Items ?? []).map((item) => ({ pk: item.pk, sk: item.sk }));
    const links = await this.batchGet(keys);
    const order = new Map(keys.map((key, index) => [key.pk as string, index]));
    links.sort((a, b) => (order.get(linkKey(a.linkId).pk) ?? 0) - (order.get(linkKey(b.linkId).pk) ?? 0));
    return {
      links,
      nextCursor: page.LastEvaluatedKey ? query.encodeCursor(page.LastEvaluatedKey) : null,
    };
  }

  /**
   * Recorded changes by event id (the sparse byEventId index, then their items), in no particular
   * order; an id no change carries is left out. Changes recorded before the index existed lack the key.
   */
  async findChanges(eventIds: readonly string[]): Promise<StoredChange[]> {
    const keys: Record<string, unknown>[] = [];
    for (let i = 0; i < eventIds.length; i += FIND_CONCURRENCY) {
      const found = await Promise.all(
        eventIds.slice(i, i + FIND_CONCURRENCY).map(async (eventId) => {
          const { Items = [] } = await this.db.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: EVENT_ID_INDEX.indexName,
              KeyConditionExpression: 'eventId = :id',
              ExpressionAttributeValues: { ':id': eventId },
            }),
          );
          return Items.map((item) => ({ pk: item.pk, sk: item.sk }));
        }),
      );
      keys.push(...found.flat());
    }
    const items = await this.batchGetItems(keys);
    return items.filter((item) => item.type === 'change').map(storedChangeOf);
  }

  private async batchGet(keys: Record<string, unknown>[]): Promise<LinkState[]> {
    return (await this.batchGetItems(keys)).map(linkStateOf);
  }

  private async batchGetItems(keys: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
      for (let attempt = 0; pending && pending.length > 0 && attempt < 5; attempt++) {
        const result: BatchGetCommandOutput = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
        );
        items.push(...(result.Responses?.[this.tableName] ?? []));
        pending = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return items;
  }
}

/** The state index's key of a link item, as `LastEvaluatedKey` gives it. */
const CursorSchema = z.object({
  pk: z.string().check(z.maxLength(80)),
  sk: z.string().check(z.maxLength(20)),
  listState: z.string().check(z.maxLength(10)),
  linkId: z.string().check(z.maxLength(64)),
});

/** A status or reference listing's cursor: the filter's fingerprint and the last `listKey`. */
const KeyCursorSchema = z.strictObject({
  f: z.string().check(z.maxLength(32)),
  k: z.string().check(z.maxLength(80)),
});

const LIST_KEY_PATTERN = /^(watching|final|idle)#([A-Za-z0-9_-]{1,64})$/;

interface ListingQuery {
  index: IndexDefinition;
  keyCondition: string;
  values: Record<string, unknown>;
  encodeCursor(lastKey: Record<string, unknown>): string;
  decodeCursor(cursor: string): Record<string, unknown>;
}

/** The index, key condition and cursor format of one listing. */
function listingQuery(filter: LinkFilter): ListingQuery {
  if (filter.status === undefined && filter.reference === undefined) {
    const state = filter.state;
    return {
      index: STATE_INDEX,
      keyCondition: 'listState = :state',
      values: { ':state': state },
      encodeCursor: (key) => Buffer.from(JSON.stringify(key)).toString('base64url'),
      decodeCursor: (cursor) => {
        try {
          const key = CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
          if (key.listState === state && key.pk === linkKey(key.linkId).pk) return key;
        } catch {
          // Falls through to the same error as a cursor of another listing.
        }
        throw new InvalidCursorError();
      },
    };
  }
  const [index, value] =
    filter.status !== undefined ? [STATUS_INDEX, filter.status] : [REFERENCE_INDEX, filter.reference];
  const partition = index.partitionKey.name;
  const values: Record<string, unknown> = { ':value': value };
  let keyCondition = `${partition} = :value`;
  if (filter.state !== undefined) {
    keyCondition += ' AND begins_with(listKey, :prefix)';
    values[':prefix'] = `${filter.state}#`;
  }
  // Bound to its filter without carrying it: a reference may be long, the cursor stays short.
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([index.indexName, value, filter.state ?? null]))
    .digest('base64url')
    .slice(0, 16);
  return {
    index,
    keyCondition,
    values,
    encodeCursor: (key) =>
      Buffer.from(JSON.stringify({ f: fingerprint, k: key.listKey })).toString('base64url'),
    decodeCursor: (cursor) => {
      try {
        const parsed = KeyCursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
        const match = LIST_KEY_PATTERN.exec(parsed.k);
        if (parsed.f === fingerprint && match && (filter.state === undefined || match[1] === filter.state)) {
          return { ...linkKey(match[2]!), [partition]: value, listKey: parsed.k };
        }
      } catch {
        // Falls through to the same error as a cursor of another listing.
      }
      throw new InvalidCursorError();
    },
  };
}
