import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one table, defined once: the CDK construct and the local cloud and tests (which create it on
 * the emulator) both build it from this.
 *
 * Items:
 *   link    pk = LINK#<linkId>  sk = LINK                the link's state
 *   change  pk = LINK#<linkId>  sk = CHANGE#<sequence>   one recorded change (event detail + publishedAt)
 *   lease   pk = LEASE#<shard>  sk = LEASE                which recheck run holds a due-index shard, until when
 *
 *   cursor  pk = DISCOVERY       sk = CURSOR             where the discovery walk resumes (shared/discovery)
 *
 * Sparse indexes (an item is in an index only while it has the index's key attributes):
 *   due          dueShard (S) + nextCheckAt (N)    watched links by due time, sharded by link id
 *   outbox       outboxPk (S) + outboxAt (N)       changes not yet published, oldest first
 *   byState      listState (S) + linkId (S)        links by watching / final / idle, for listing
 *   byStatus     linkStatus (S) + listKey (S)      links by InstantPay status, for `GET /links?status=`
 *   byReference  linkReference (S) + listKey (S)   links by the merchant's reference, for `?reference=`
 *   byEventId    eventId (S)                       change items by their event id (a resend finds them)
 *
 * `listKey` is `<listState>#<linkId>`: a `state` filter on top of a status or reference is a key
 * prefix, never a filter expression, so every page is full. `linkStatus` and `linkReference` are
 * attributes of their own (never `status`), so no other kind of item can ever land in those indexes.
 */
type AttributeType = 'S' | 'N';
export interface KeyAttribute {
  name: string;
  type: AttributeType;
}
export interface IndexDefinition {
  indexName: string;
  partitionKey: KeyAttribute;
  /** None: one item per partition key (`byEventId`). */
  sortKey?: KeyAttribute;
  projection: 'KEYS_ONLY' | 'ALL';
}

export interface TableDefinition {
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  indexes: readonly IndexDefinition[];
}

export const TABLE_KEYS = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
} as const satisfies { partitionKey: KeyAttribute; sortKey: KeyAttribute };

export const DUE_INDEX = {
  indexName: 'due',
  partitionKey: { name: 'dueShard', type: 'S' },
  sortKey: { name: 'nextCheckAt', type: 'N' },
  // A scheduled check needs only the link id: its one conditional write answers the item if it must diff.
  projection: 'KEYS_ONLY',
} as const satisfies IndexDefinition;

export const OUTBOX_INDEX = {
  indexName: 'outbox',
  partitionKey: { name: 'outboxPk', type: 'S' },
  sortKey: { name: 'outboxAt', type: 'N' },
  // Change items are small and leave the index once published: carry them whole for republishing.
  projection: 'ALL',
} as const satisfies IndexDefinition;

export const STATE_INDEX = {
  indexName: 'byState',
  partitionKey: { name: 'listState', type: 'S' },
  sortKey: { name: 'linkId', type: 'S' },
  // Keys only, so a check that moves nothing but counters never writes to this index.
  projection: 'KEYS_ONLY',
} as const satisfies IndexDefinition;

/** The partition key prefixes of the items above. */
export const LINK_PK_PREFIX = 'LINK#';
export const LEASE_PK_PREFIX = 'LEASE#';

export const STATUS_INDEX = {
  indexName: 'byStatus',
  partitionKey: { name: 'linkStatus', type: 'S' },
  sortKey: { name: 'listKey', type: 'S' },
  // Keys only (then a BatchGet, as for byState): written only when a link's status or list state moves.
  projection: 'KEYS_ONLY',
} as const satisfies IndexDefinition;

export const REFERENCE_INDEX = {
  indexName: 'byReference',
  partitionKey: { name: 'linkReference', type: 'S' },
  sortKey: { name: 'listKey', type: 'S' },
  // Keys only: a reference names few links; they are read whole with a BatchGet.
  projection: 'KEYS_ONLY',
} as const satisfies IndexDefinition;

export const EVENT_ID_INDEX = {
  indexName: 'byEventId',
  partitionKey: { name: 'eventId', type: 'S' },
  // A resend reads the change items it finds by their keys (BatchGetItem): nothing else is copied.
  projection: 'KEYS_ONLY',
} as const satisfies IndexDefinition;

export const INDEXES: readonly IndexDefinition[] = [
  DUE_INDEX,
  OUTBOX_INDEX,
  STATE_INDEX,
  STATUS_INDEX,
  REFERENCE_INDEX,
  EVENT_ID_INDEX,
];

/** How many partitions the due index spreads watched links over (a power of two up to 256). */
export const DUE_SHARDS = 16;

/** The `CreateTable` input for the emulator; the CDK construct maps the same constants. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return tableInput(tableName, { ...TABLE_KEYS, indexes: INDEXES });
}

/** The `CreateTable` input of a table definition (this one, or the deliveries table's). */
export function tableInput(tableName: string, definition: TableDefinition): CreateTableCommandInput {
  const attributes = new Map<string, AttributeType>();
  const keys = [definition.partitionKey, definition.sortKey];
  for (const index of definition.indexes)
    keys.push(index.partitionKey, ...(index.sortKey ? [index.sortKey] : []));
  for (const key of keys) attributes.set(key.name, key.type);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: [
      { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: definition.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: definition.indexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' as const }] : []),
      ],
      Projection: { ProjectionType: index.projection },
    })),
  };
}
