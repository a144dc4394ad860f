import type { UpdateTimeToLiveCommandInput } from '@aws-sdk/client-dynamodb';
import type { IndexDefinition, TableDefinition } from './table-definition.ts';

/**
 * The webhook attempt log, a table of its own, defined once: the CDK construct and the local cloud and
 * tests (which create it on the emulator) both build it from this. Its own table, not the link table's,
 * so the deliverer's role is one `PutItem` on it (no leading-keys condition over every link), and its
 * TTL deletes never touch a link.
 *
 * Items (one write per attempt; one for a delivery kept without an attempt):
 *   pk = <linkId>  sk = <eventId>#<subscriber>#<at, 13 digits>#<SQS message id>#<receive, 4 digits>
 * so one Query of a link gives its deliveries grouped per (event, subscriber), each oldest first. The
 * time, not the attempt number, orders them: a resend is a new message whose receive count starts again.
 *
 * Sparse index (attempts only; a delivery kept without an attempt is not in it):
 *   bySubscriber  subscriberOutcome (S) = <subscriber>#delivered|failed + at (N)   subscriber health
 */
export const DELIVERY_TABLE_KEYS = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
} as const;

export const SUBSCRIBER_INDEX = {
  indexName: 'bySubscriber',
  partitionKey: { name: 'subscriberOutcome', type: 'S' },
  sortKey: { name: 'at', type: 'N' },
  // Health needs only times and counts: the keys carry them.
  projection: 'KEYS_ONLY',
} as const satisfies IndexDefinition;

export const DELIVERY_TABLE: TableDefinition = { ...DELIVERY_TABLE_KEYS, indexes: [SUBSCRIBER_INDEX] };

/** DynamoDB's TTL attribute of the attempt log: epoch seconds. */
export const DELIVERY_TTL_ATTRIBUTE = 'expiresAt';
/** How long an attempt is kept (the contract's 30 days). */
export const DELIVERY_RETENTION_DAYS = 30;

/** Turns TTL on, on the emulator; the CDK construct sets the same attribute. */
export function deliveryTimeToLiveInput(tableName: string): UpdateTimeToLiveCommandInput {
  return {
    TableName: tableName,
    TimeToLiveSpecification: { AttributeName: DELIVERY_TTL_ATTRIBUTE, Enabled: true },
  };
}
