import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { linkKey, sharedDocumentClient } from '#shared/store/link-store.ts';

/** Where the walk resumes: a status of the walk and a List page number (from 1). */
export interface DiscoveryPosition {
  status: string;
  pageNumber: number;
}

export interface DiscoveryCursor extends DiscoveryPosition {
  /** Bumped by every write: each write is conditional on the version read. */
  version: number;
  /** Complete passes over every configured status so far. */
  passes: number;
  updatedAt: number;
}

/** The cursor's own item in the link table (`table-definition.ts`); no index key, so in no index. */
const CURSOR_KEY = { pk: 'DISCOVERY', sk: 'CURSOR' } as const;

/** BatchGet's limit per call. */
const BATCH_GET_MAX = 100;
const BATCH_GET_ATTEMPTS = 5;

export class UnprocessedKeysError extends Error {
  override readonly name = 'UnprocessedKeysError';
  constructor(count: number) {
    super(
      `DynamoDB left ${count} keys unprocessed after ${BATCH_GET_ATTEMPTS} tries: the page is read again later`,
    );
  }
}

/** Discovery's reads and writes of the link table: its cursor, and which listed links are known. */
export class DiscoveryStore {
  private readonly db: DynamoDBDocumentClient;

  constructor(private readonly options: { tableName: string; client?: DynamoDBDocumentClient }) {
    this.db = options.client ?? sharedDocumentClient();
  }

  async readCursor(): Promise<DiscoveryCursor | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.options.tableName, Key: CURSOR_KEY, ConsistentRead: true }),
    );
    if (!Item) return null;
    return {
      status: String(Item.status),
      pageNumber: Number(Item.pageNumber),
      version: Number(Item.version),
      passes: Number(Item.passes ?? 0),
      updatedAt: Number(Item.updatedAt ?? 0),
    };
  }

  /**
   * Moves the cursor if nobody moved it since `expectedVersion` was read (`null`: no cursor yet).
   * `null` when another run moved it first: that run owns the walk now.
   */
  async moveCursor(
    expectedVersion: number | null,
    next: DiscoveryPosition & { passes: number },
    now: number,
  ): Promise<DiscoveryCursor | null> {
    const cursor: DiscoveryCursor = { ...next, version: (expectedVersion ?? 0) + 1, updatedAt: now };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...CURSOR_KEY, ...cursor },
          ...(expectedVersion === null
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'version = :version',
                ExpressionAttributeValues: { ':version': expectedVersion },
              }),
        }),
      );
      return cursor;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  /**
   * Which of these links the table holds an item for, whatever its state (watched, final or
   * unwatched). Throws rather than answer partially: a key left unprocessed must never read as
   * "unknown", or an unwatched link would be registered again.
   */
  async knownLinkIds(linkIds: readonly string[]): Promise<Set<string>> {
    const known = new Set<string>();
    const unique = [...new Set(linkIds)];
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX) {
      let pending: Record<string, unknown>[] | undefined = unique
        .slice(i, i + BATCH_GET_MAX)
        .map((linkId) => linkKey(linkId));
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt === BATCH_GET_ATTEMPTS) throw new UnprocessedKeysError(pending.length);
        const result: BatchGetCommandOutput = await this.db.send(
          new BatchGetCommand({
            RequestItems: {
              [this.options.tableName]: { Keys: pending, ProjectionExpression: 'pk', ConsistentRead: true },
            },
          }),
        );
        for (const item of result.Responses?.[this.options.tableName] ?? [])
          known.add(String(item.pk).slice('LINK#'.length));
        pending = result.UnprocessedKeys?.[this.options.tableName]?.Keys;
      }
    }
    return known;
  }
}
