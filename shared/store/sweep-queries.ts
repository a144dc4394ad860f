import { ConditionalCheckFailedException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { DetailType, LinkChange, LinkEventDetail } from '#shared/link/link-event.ts';
import type { DueLink, OutboxStats, SweepStore } from '#shared/recheck/sweep-store.ts';
import {
  type LinkStoreOptions,
  OUTBOX_PARTITION,
  QUARANTINE_PARTITION,
  sharedDocumentClient,
} from './link-store.ts';
import { DUE_INDEX, LEASE_PK_PREFIX, LINK_PK_PREFIX, OUTBOX_INDEX } from './table-definition.ts';

const LEASE_SK = 'LEASE';

/** A due-index shard's lease item: in no index (it has none of their keys). */
function leaseKey(shard: string) {
  return { pk: `${LEASE_PK_PREFIX}${shard}`, sk: LEASE_SK };
}

/**
 * What the scheduled sweep reads and writes in the link table beside the checks (`LinkStore`): due
 * links and how many, the due-index shards' leases, the outbox's figures and its unpublished changes.
 */
export class SweepQueries implements SweepStore {
  readonly tableName: string;
  private readonly db: DynamoDBDocumentClient;

  constructor(options: LinkStoreOptions) {
    this.tableName = options.tableName;
    this.db = options.client ?? sharedDocumentClient();
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
}
