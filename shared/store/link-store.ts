import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';
import type { DetailType, LinkChange, LinkEventDetail } from '#shared/link/link-event.ts';
import type { LinkObservation } from '#shared/link/link-observation.ts';
import type { LinkState } from '#shared/link/link-state.ts';
import { isFinal } from '#shared/link/link-status.ts';
import * as z from '#shared/zod.ts';
import {
  DUE_INDEX,
  DUE_SHARDS,
  EVENT_ID_INDEX,
  type IndexDefinition,
  LEASE_PK_PREFIX,
  LINK_PK_PREFIX,
  OUTBOX_INDEX,
  REFERENCE_INDEX,
  STATE_INDEX,
  STATUS_INDEX,
} from './table-definition.ts';

/** Module-level default: one client per container. */
let defaultDocumentClient: DynamoDBDocumentClient | undefined;
export function sharedDocumentClient(): DynamoDBDocumentClient {
  defaultDocumentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return defaultDocumentClient;
}

export type ListState = 'watching' | 'final' | 'idle';

/**
 * Which links a listing holds: by list state alone (`byState`), or by InstantPay status or by the
 * merchant's reference (`byStatus`, `byReference`), either one with a list state or without.
 */
export type LinkFilter =
  | { state: ListState; status?: undefined; reference?: undefined }
  | { status: string; state?: ListState; reference?: undefined }
  | { reference: string; state?: ListState; status?: undefined };
const OUTBOX_PARTITION = 'outbox';
/** Changes the bus refused for good: kept, out of the outbox's way, for an operator (same index). */
const QUARANTINE_PARTITION = 'quarantine';
const LINK_SK = 'LINK';
const LEASE_SK = 'LEASE';
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

/** A due link as the due index gives it. */
export interface DueLink {
  linkId: string;
  nextCheckAt: number;
}

export interface StoredChange {
  detailType: DetailType;
  detail: LinkEventDetail;
  recordedAt: number;
  publishedAt: number | null;
}

/**
 * The result of a conditional write: done, or somebody else wrote first (here is what they wrote).
 * `contended`: DynamoDB refused the write because another request held the item at that moment (a
 * transaction conflict, or throttling inside a transaction): worth another try after a short pause.
 */
export type WriteResult =
  | { ok: true; state: LinkState }
  | { ok: false; current: LinkState | null; contended?: boolean };

/** The outbox's health, for the metrics and the alarm. */
export interface OutboxStats {
  /** Changes recorded and not yet on the bus. */
  backlog: number;
  /** When the oldest of them was recorded; `null` when there is none. */
  oldestRecordedAt: number | null;
  /** Changes the bus refused for good, set aside for an operator. */
  quarantined: number;
}

/** Reasons in a cancelled transaction that mean "another request had the item": retry, not fail. */
const CONTENTION_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

export function linkKey(linkId: string) {
  return { pk: `${LINK_PK_PREFIX}${linkId}`, sk: LINK_SK };
}

/** A due-index shard's lease item: in no index (it has none of their keys). */
function leaseKey(shard: string) {
  return { pk: `${LEASE_PK_PREFIX}${shard}`, sk: LEASE_SK };
}

function changeKey(linkId: string, sequence: number) {
  return { pk: `${LINK_PK_PREFIX}${linkId}`, sk: `CHANGE#${String(sequence).padStart(10, '0')}` };
}

/** FNV-1a: a stable, well-spread shard for a link id. */
export function dueShardOf(linkId: string, shards = DUE_SHARDS): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < linkId.length; i++) {
    hash ^= linkId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return dueShardName((hash >>> 0) % shards);
}

export function dueShardName(shard: number): string {
  return `due#${String(shard).padStart(3, '0')}`;
}

function listStateOf(state: LinkState): ListState {
  if (state.status !== null && isFinal(state.status)) return 'final';
  return state.nextCheckAt === null ? 'idle' : 'watching';
}

/** The sort key of `byStatus` and `byReference`: a state filter is a prefix of it. */
function listKeyOf(listState: ListState, linkId: string): string {
  return `${listState}#${linkId}`;
}

/** The DynamoDB item of a link: its state plus the keys of the sparse indexes it belongs to. */
function toItem(state: LinkState): Record<string, unknown> {
  const listState = listStateOf(state);
  const item: Record<string, unknown> = {
    ...linkKey(state.linkId),
    type: 'link',
    ...state,
    activityCount: state.activity.length,
    listState,
    listKey: listKeyOf(listState, state.linkId),
    // The keys of byStatus and byReference; absent (out of the index) while there is no status or reference.
    linkStatus: state.status,
    linkReference: state.reference,
  };
  // A null index key would be rejected; an absent one keeps the item out of the sparse index.
  if (state.nextCheckAt === null) delete item.nextCheckAt;
  else item.dueShard = dueShardOf(state.linkId);
  for (const [key, value] of Object.entries(item))
    if (value === null || value === undefined) delete item[key];
  return item;
}

function fromItem(item: Record<string, unknown>): LinkState {
  const get = <T>(key: string, fallback: T): T => (item[key] === undefined ? fallback : (item[key] as T));
  return {
    linkId: item.linkId as string,
    status: get<string | null>('status', null),
    amount: get<number | null>('amount', null),
    activity: get('activity', []),
    sequence: get('sequence', 0),
    version: get('version', 0),
    registeredAt: get('registeredAt', 0),
    firstSeenAt: get<number | null>('firstSeenAt', null),
    lastObservedAt: get<number | null>('lastObservedAt', null),
    lastCheckedAt: get<number | null>('lastCheckedAt', null),
    lastChangedAt: get<number | null>('lastChangedAt', null),
    nextCheckAt: get<number | null>('nextCheckAt', null),
    checks: get('checks', 0),
    consecutiveErrors: get('consecutiveErrors', 0),
    expiresAt: get<number | null>('expiresAt', null),
    ...(item.reference === undefined ? {} : { reference: item.reference as string }),
    ...(item.metadata === undefined ? {} : { metadata: item.metadata as Record<string, string> }),
    upstream: get('upstream', null),
    watchEnded: get('watchEnded', null),
    failingSince: get<number | null>('failingSince', null),
    lastError: get('lastError', null),
  };
}

function oldItem(error: { Item?: Record<string, unknown> }): LinkState | null {
  // The low-level exception carries the item in DynamoDB JSON.
  return error.Item ? fromItem(unmarshall(error.Item as never)) : null;
}

export interface TouchOptions {
  /** Only while the link is watched (`nextCheckAt` set): a scheduled check never watches it again. */
  onlyIfWatched?: boolean;
}

export interface LinkStoreOptions {
  tableName: string;
  client?: DynamoDBDocumentClient;
}

/** The link table: every read and write of links and their recorded changes. */
export class LinkStore {
  readonly tableName: string;
  private readonly db: DynamoDBDocumentClient;

  constructor(options: LinkStoreOptions) {
    this.tableName = options.tableName;
    this.db = options.client ?? sharedDocumentClient();
  }

  async getLink(linkId: string, consistent = true): Promise<LinkState | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: linkKey(linkId), ConsistentRead: consistent }),
    );
    return Item ? fromItem(Item) : null;
  }

  /**
   * The one-write path of a check that finds nothing new: moves the check counters and
   * `nextCheckAt` only if the stored link still has this status, activity and amount, the
   * observation is not stale, the computed `nextCheckAt` does not overshoot `expiresAt`, and (for a
   * scheduled check) the link is still watched.
   * Otherwise answers the stored item (no extra read) so the caller can diff.
   */
  async touchIfUnchanged(
    observed: LinkObservation,
    nextCheckAt: number | null,
    now: number,
    expiryGraceMs: number,
    options: TouchOptions = {},
  ): Promise<WriteResult> {
    const watching = nextCheckAt !== null;
    const finalStatus = isFinal(observed.status);
    const listState: ListState = finalStatus ? 'final' : watching ? 'watching' : 'idle';
    const sets = [
      'lastObservedAt = :observedAt',
      'lastCheckedAt = :now',
      'checks = checks + :one',
      'version = version + :one',
      'consecutiveErrors = :zero',
      'upstream = :upstream',
      'listState = :listState',
      'listKey = :listKey',
      // The status is unchanged (the condition), but an item written before byStatus existed gets its key.
      'linkStatus = :status',
    ];
    if (watching) sets.push('nextCheckAt = :next', 'dueShard = :shard');
    // A successful check clears the error streak; a watched link is watched for no ending reason.
    const removes = ['failingSince', 'lastError', 'watchEnded'];
    if (!watching) removes.push('nextCheckAt', 'dueShard');
    const values: Record<string, unknown> = {
      ':status': observed.status,
      ':count': observed.activity.length,
      ':amount': observed.amount,
      ':startedAt': observed.startedAt,
      ':observedAt': observed.observedAt,
      ':now': now,
      ':one': 1,
      ':zero': 0,
      ':upstream': {
        statuscode: observed.statuscode,
        ipayUuid: observed.ipayUuid,
        environment: observed.environment,
        timestamp: observed.timestamp,
      },
      ':listState': listState,
      ':listKey': listKeyOf(listState, observed.linkId),
    };
    let condition =
      'attribute_exists(pk) AND #status = :status AND activityCount = :count AND amount = :amount AND lastObservedAt <= :startedAt';
    if (options.onlyIfWatched) condition += ' AND attribute_exists(nextCheckAt)';
    if (watching) {
      values[':next'] = nextCheckAt;
      values[':shard'] = dueShardOf(observed.linkId);
      values[':latestNext'] = nextCheckAt - expiryGraceMs;
      condition += ' AND (attribute_not_exists(expiresAt) OR expiresAt >= :latestNext)';
    }
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: linkKey(observed.linkId),
          UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, state: fromItem(Attributes ?? {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { ok: false, current: oldItem(error) };
      if (error instanceof TransactionConflictException) return this.contended(observed.linkId);
      throw error;
    }
  }

  /** Another request held the item: what is stored now, for the caller's next try. */
  private async contended(linkId: string): Promise<WriteResult> {
    return { ok: false, current: await this.getLink(linkId), contended: true };
  }

  /** Writes a state with no change to record, if nobody wrote since `expectedVersion` (`null`: a new link). */
  async saveState(expectedVersion: number | null, next: LinkState): Promise<WriteResult> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(next),
          ...versionCondition(expectedVersion),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, state: next };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { ok: false, current: oldItem(error) };
      if (error instanceof TransactionConflictException) return this.contended(next.linkId);
      throw error;
    }
  }

  /**
   * Records changes exactly once: one transaction writes the new state (conditional on the version
   * read) and one item per change (conditional on not existing), each marked unpublished (outbox).
   */
  async commitChanges(
    expectedVersion: number | null,
    next: LinkState,
    changes: readonly LinkChange[],
    now: number,
  ): Promise<WriteResult> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: toItem(next),
                ...versionCondition(expectedVersion),
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            ...changes.map((change) => ({
              Put: {
                TableName: this.tableName,
                Item: {
                  ...changeKey(change.detail.linkId, change.detail.sequence),
                  type: 'change',
                  linkId: change.detail.linkId,
                  sequence: change.detail.sequence,
                  // The byEventId index's key: a resend finds the change by it, at no extra write.
                  eventId: change.detail.eventId,
                  detailType: change.detailType,
                  detail: change.detail,
                  recordedAt: now,
                  outboxPk: OUTBOX_PARTITION,
                  outboxAt: now,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            })),
          ],
        }),
      );
      return { ok: true, state: next };
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = error.CancellationReasons ?? [];
        if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) {
          const first = reasons[0] as { Item?: Record<string, unknown> } | undefined;
          return { ok: false, current: first?.Item ? oldItem(first) : await this.getLink(next.linkId) };
        }
        // DynamoDB cancels a transaction that races another on the same item: nothing was written.
        if (reasons.some((reason) => CONTENTION_REASONS.has(reason.Code ?? ''))) {
          return this.contended(next.linkId);
        }
      }
      if (error instanceof TransactionConflictException) return this.contended(next.linkId);
      throw error;
    }
  }

  /**
   * One page of due links of one shard, oldest first: `nextCheckAt <= now` on the sparse due index.
   * Never a scan: the cost follows the number of due links, not the table's size.
   */
  async queryDue(
    shard: string,
    now: number,
    limit: number,
    startKey?: Record<string, unknown>,
  ): Promise<{ due: DueLink[]; lastKey: Record<string, unknown> | undefined }> {
    const page = await this.db.send(
      new QueryCommand({
        ...this.dueQuery(shard, now),
        ScanIndexForward: true,
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    const due = (page.Items ?? []).map((item) => ({
      linkId: (item.pk as string).slice(LINK_PK_PREFIX.length),
      nextCheckAt: item.nextCheckAt as number,
    }));
    return { due, lastKey: page.LastEvaluatedKey };
  }

  /** Due links of one shard on the sparse due index: `nextCheckAt <= now`. */
  private dueQuery(shard: string, now: number) {
    return {
      TableName: this.tableName,
      IndexName: DUE_INDEX.indexName,
      KeyConditionExpression: 'dueShard = :shard AND nextCheckAt <= :now',
      ExpressionAttributeValues: { ':shard': shard, ':now': now },
    };
  }

  /** How many links of one shard are due, from `startKey` on (for the backlog metric). */
  async countDue(shard: string, now: number, startKey?: Record<string, unknown>): Promise<number> {
    return this.countMatching(this.dueQuery(shard, now), startKey);
  }

  /** How many items a query matches, page by page (`Select: COUNT`: no item is read back). */
  private async countMatching(
    query: Omit<QueryCommandInput, 'Select' | 'ExclusiveStartKey'>,
    startKey?: Record<string, unknown>,
  ): Promise<number> {
    let count = 0;
    let start = startKey;
    do {
      const page = await this.db.send(
        new QueryCommand({ ...query, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  /**
   * Takes a due-index shard's lease for one run until `until`: one conditional write that succeeds
   * when nobody holds it, its last lease ended before `now`, or this holder has it already (a retried
   * write). Answers `false` when another run holds it.
   */
  async takeLease(shard: string, holder: string, until: number, now: number): Promise<boolean> {
    return this.writeLease(shard, {
      UpdateExpression: 'SET #holder = :holder, #until = :until, takenAt = :now REMOVE releasedAt',
      ConditionExpression: 'attribute_not_exists(pk) OR #until < :now OR #holder = :holder',
      ExpressionAttributeValues: { ':holder': holder, ':until': until, ':now': now },
    });
  }

  /** Moves the end of a lease this holder still holds; `false` when another run has taken it. */
  async renewLease(shard: string, holder: string, until: number): Promise<boolean> {
    return this.writeLease(shard, {
      UpdateExpression: 'SET #until = :until',
      ConditionExpression: '#holder = :holder',
      ExpressionAttributeValues: { ':holder': holder, ':until': until },
    });
  }

  /** Ends a lease this holder still holds, so the next run may take the shard at once. */
  async releaseLease(shard: string, holder: string, now: number): Promise<boolean> {
    return this.writeLease(shard, {
      UpdateExpression: 'SET #until = :zero, releasedAt = :now',
      ConditionExpression: '#holder = :holder',
      ExpressionAttributeValues: { ':holder': holder, ':zero': 0, ':now': now },
    });
  }

  private async writeLease(
    shard: string,
    update: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: leaseKey(shard),
          ...update,
          ExpressionAttributeNames: { '#holder': 'holder', '#until': 'until' },
        }),
      );
      return true;
    } catch (error) {
      // Another run holds it (or a transaction holds the item right now): not this run's shard.
      if (error instanceof ConditionalCheckFailedException || error instanceof TransactionConflictException)
        return false;
      throw error;
    }
  }

  /**
   * Marks changes published: they leave the outbox index. Every mark is tried; answers how many could
   * not be written (those stay in the outbox and are republished later, with the same ids).
   */
  async markPublished(changes: readonly LinkChange[], at: number): Promise<number> {
    const outcomes = await Promise.allSettled(
      changes.map((change) =>
        this.db
          .send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: changeKey(change.detail.linkId, change.detail.sequence),
              UpdateExpression: 'SET publishedAt = :at REMOVE outboxPk, outboxAt',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':at': at },
            }),
          )
          .catch((error: unknown) => {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          }),
      ),
    );
    return outcomes.filter((outcome) => outcome.status === 'rejected').length;
  }

  /**
   * Counts one more refused publish of a change still in the outbox, with the bus's error code;
   * answers how many publishes it has failed so far (0 when it is no longer in the outbox).
   */
  async notePublishFailure(change: LinkChange, errorCode: string, at: number): Promise<number> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: changeKey(change.detail.linkId, change.detail.sequence),
          UpdateExpression:
            'ADD publishFailures :one SET lastPublishError = :code, lastPublishFailedAt = :at',
          ConditionExpression: 'outboxPk = :outbox',
          ExpressionAttributeValues: {
            ':one': 1,
            ':code': errorCode.slice(0, 64),
            ':at': at,
            ':outbox': OUTBOX_PARTITION,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(Attributes?.publishFailures ?? 0);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 0;
      throw error;
    }
  }

  /** Moves a change the bus refuses for good out of the outbox, into the quarantine (still listed with its link). */
  async quarantine(change: LinkChange, at: number): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: changeKey(change.detail.linkId, change.detail.sequence),
          UpdateExpression: 'SET outboxPk = :quarantine, quarantinedAt = :at',
          ConditionExpression: 'outboxPk = :outbox',
          ExpressionAttributeValues: {
            ':quarantine': QUARANTINE_PARTITION,
            ':outbox': OUTBOX_PARTITION,
            ':at': at,
          },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  /** The outbox's backlog, its oldest change and the quarantine's size, from the sparse outbox index (no scan). */
  async outboxStats(): Promise<OutboxStats> {
    const [oldest, backlog, quarantined] = await Promise.all([
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: OUTBOX_INDEX.indexName,
          KeyConditionExpression: 'outboxPk = :pk',
          ExpressionAttributeValues: { ':pk': OUTBOX_PARTITION },
          ScanIndexForward: true,
          Limit: 1,
        }),
      ),
      this.countOutbox(OUTBOX_PARTITION),
      this.countOutbox(QUARANTINE_PARTITION),
    ]);
    const first = oldest.Items?.[0];
    return {
      backlog,
      oldestRecordedAt: first === undefined ? null : Number(first.outboxAt),
      quarantined,
    };
  }

  private countOutbox(partition: string): Promise<number> {
    return this.countMatching({
      TableName: this.tableName,
      IndexName: OUTBOX_INDEX.indexName,
      KeyConditionExpression: 'outboxPk = :pk',
      ExpressionAttributeValues: { ':pk': partition },
    });
  }

  /** Changes recorded but not yet published (recorded at or before `recordedBefore`), oldest first, without a scan. */
  async listUnpublished(limit: number, recordedBefore = Number.MAX_SAFE_INTEGER): Promise<LinkChange[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: OUTBOX_INDEX.indexName,
        KeyConditionExpression: 'outboxPk = :pk AND outboxAt <= :before',
        ExpressionAttributeValues: { ':pk': OUTBOX_PARTITION, ':before': recordedBefore },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return Items.map((item) => ({
      detailType: item.detailType as DetailType,
      detail: item.detail as LinkEventDetail,
    }));
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
        changes.push({
          detailType: item.detailType as DetailType,
          detail: item.detail as LinkEventDetail,
          recordedAt: item.recordedAt as number,
          publishedAt: (item.publishedAt as number | undefined) ?? null,
        });
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
    return items
      .filter((item) => item.type === 'change')
      .map((item) => ({
        detailType: item.detailType as DetailType,
        detail: item.detail as LinkEventDetail,
        recordedAt: item.recordedAt as number,
        publishedAt: (item.publishedAt as number | undefined) ?? null,
      }));
  }

  private async batchGet(keys: Record<string, unknown>[]): Promise<LinkState[]> {
    return (await this.batchGetItems(keys)).map(fromItem);
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

function versionCondition(expectedVersion: number | null) {
  return expectedVersion === null
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : {
        ConditionExpression: 'version = :version',
        ExpressionAttributeValues: { ':version': expectedVersion },
      };
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
