import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';
import type { LinkChange } from '#shared/link/link-event.ts';
import type { LinkObservation } from '#shared/link/link-observation.ts';
import type { LinkState } from '#shared/link/link-state.ts';
import { isFinal } from '#shared/link/link-status.ts';
import { DUE_SHARDS, LINK_PK_PREFIX } from './table-definition.ts';

/** Module-level default: one client per container. */
let defaultDocumentClient: DynamoDBDocumentClient | undefined;
export function sharedDocumentClient(): DynamoDBDocumentClient {
  defaultDocumentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return defaultDocumentClient;
}

export type ListState = 'watching' | 'final' | 'idle';

/** The outbox index's partition of changes recorded and not yet on the bus. */
export const OUTBOX_PARTITION = 'outbox';
/** Changes the bus refused for good: kept, out of the outbox's way, for an operator (same index). */
export const QUARANTINE_PARTITION = 'quarantine';
const LINK_SK = 'LINK';

/**
 * The result of a conditional write: done, or somebody else wrote first (here is what they wrote).
 * `contended`: DynamoDB refused the write because another request held the item at that moment (a
 * transaction conflict, or throttling inside a transaction): worth another try after a short pause.
 */
export type WriteResult =
  | { ok: true; state: LinkState }
  | { ok: false; current: LinkState | null; contended?: boolean };

/** Reasons in a cancelled transaction that mean "another request had the item": retry, not fail. */
const CONTENTION_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

export function linkKey(linkId: string) {
  return { pk: `${LINK_PK_PREFIX}${linkId}`, sk: LINK_SK };
}

export function changeKey(linkId: string, sequence: number) {
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

/** A link item as the link's state (fields absent from older items take their defaults). */
export function linkStateOf(item: Record<string, unknown>): LinkState {
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
    ...(item.discovered === true ? { discovered: true } : {}),
  };
}

function oldItem(error: { Item?: Record<string, unknown> }): LinkState | null {
  // The low-level exception carries the item in DynamoDB JSON.
  return error.Item ? linkStateOf(unmarshall(error.Item as never)) : null;
}

export interface TouchOptions {
  /** Only while the link is watched (`nextCheckAt` set): a scheduled check never watches it again. */
  onlyIfWatched?: boolean;
}

export interface LinkStoreOptions {
  tableName: string;
  client?: DynamoDBDocumentClient;
}

/**
 * The link table as the tracker writes it: a link's state and its recorded changes, each change in
 * the outbox until it is marked published. The reads the API lists with are `LinkQueries`
 * (`link-queries.ts`); the sweep's due links, leases and outbox figures are `SweepQueries` (`sweep-queries.ts`).
 */
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
    return Item ? linkStateOf(Item) : null;
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
      return { ok: true, state: linkStateOf(Attributes ?? {}) };
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
}

function versionCondition(expectedVersion: number | null) {
  return expectedVersion === null
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : {
        ConditionExpression: 'version = :version',
        ExpressionAttributeValues: { ':version': expectedVersion },
      };
}
