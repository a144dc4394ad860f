import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryRecord, DeliveryState } from '#shared/webhooks/delivery-record.ts';
import {
  DELIVERY_RETENTION_DAYS,
  DELIVERY_TTL_ATTRIBUTE,
  SUBSCRIBER_INDEX,
} from './delivery-table-definition.ts';
import { sharedDocumentClient } from './link-store.ts';

/** A subscriber's health, read from its attempts (never a second write per attempt). */
export interface SubscriberHealth {
  lastDeliveredAt: number | null;
  lastFailedAt: number | null;
  /** Failed attempts since the last delivered one (counted up to {@link MAX_COUNTED_FAILURES}). */
  consecutiveFailures: number;
}

/** Where `consecutiveFailures` stops counting: a bound on the reads of one `GET /subscribers`. */
export const MAX_COUNTED_FAILURES = 100_000;

/** Pages of one link's log read at most (each up to 1 MB): a bound no real link comes near. */
const MAX_LINK_PAGES = 20;

const STATES = new Set<DeliveryState>(['pending', 'delivered', 'dead-lettered', 'disabled']);

function sortKey(
  record: Pick<DeliveryRecord, 'eventId' | 'subscriber' | 'at' | 'messageId' | 'receiveCount'>,
) {
  const at = String(Math.max(0, Math.floor(record.at))).padStart(13, '0');
  const receive = String(Math.min(Math.max(record.receiveCount, 0), 9999)).padStart(4, '0');
  return `${record.eventId}#${record.subscriber}#${at}#${record.messageId}#${receive}`;
}

/** `subscriberOutcome`: the partition of the health index an attempt goes to (`gone` counts as failed). */
function healthPartition(subscriber: string, delivered: boolean): string {
  return `${subscriber}#${delivered ? 'delivered' : 'failed'}`;
}

/** The webhook attempt log (`delivery-table-definition.ts`): one `PutItem` per record, reads by link and by subscriber. */
export class DeliveryLog {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    readonly tableName: string,
    options: { client?: DynamoDBDocumentClient } = {},
  ) {
    this.db = options.client ?? sharedDocumentClient();
  }

  /** One write: the record, its health-index key if it is an attempt, and its expiry 30 days on. */
  async record(record: DeliveryRecord): Promise<void> {
    const { attempt, ...rest } = record;
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: record.linkId,
          sk: sortKey(record),
          ...rest,
          ...(attempt
            ? {
                ...attempt,
                subscriberOutcome: healthPartition(record.subscriber, attempt.outcome === 'delivered'),
              }
            : {}),
          [DELIVERY_TTL_ATTRIBUTE]: Math.floor(record.at / 1000) + DELIVERY_RETENTION_DAYS * 86_400,
        },
      }),
    );
  }

  /** Every record of a link's deliveries, grouped by event and subscriber, each group oldest first. */
  async ofLink(linkId: string): Promise<DeliveryRecord[]> {
    const records: DeliveryRecord[] = [];
    let start: Record<string, unknown> | undefined;
    let pages = 0;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': linkId },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const record = recordOf(item);
        if (record) records.push(record);
      }
      start = page.LastEvaluatedKey;
    } while (start && ++pages < MAX_LINK_PAGES);
    return records;
  }

  /** Newest delivered and failed attempt, and the failures since that delivery: a few Queries on the index. */
  async health(subscriber: string): Promise<SubscriberHealth> {
    const newest = async (delivered: boolean) => {
      const { Items = [] } = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: SUBSCRIBER_INDEX.indexName,
          KeyConditionExpression: 'subscriberOutcome = :p',
          ExpressionAttributeValues: { ':p': healthPartition(subscriber, delivered) },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      const at = Items[0]?.at;
      return typeof at === 'number' ? at : null;
    };
    const [lastDeliveredAt, lastFailedAt] = await Promise.all([newest(true), newest(false)]);
    let consecutiveFailures = 0;
    if (lastFailedAt !== null && (lastDeliveredAt === null || lastFailedAt > lastDeliveredAt)) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: SUBSCRIBER_INDEX.indexName,
            KeyConditionExpression: 'subscriberOutcome = :p AND #at > :since',
            ExpressionAttributeNames: { '#at': 'at' },
            ExpressionAttributeValues: {
              ':p': healthPartition(subscriber, false),
              ':since': lastDeliveredAt ?? -1,
            },
            Select: 'COUNT',
            ExclusiveStartKey: start,
          }),
        );
        consecutiveFailures += page.Count ?? 0;
        start = page.LastEvaluatedKey;
      } while (start && consecutiveFailures < MAX_COUNTED_FAILURES);
    }
    return {
      lastDeliveredAt,
      lastFailedAt,
      consecutiveFailures: Math.min(consecutiveFailures, MAX_COUNTED_FAILURES),
    };
  }
}

/** An item read back; one that is not a record of this log (none should be) is skipped. */
function recordOf(item: Record<string, unknown>): DeliveryRecord | undefined {
  const { eventId, sequence, type, subscriber, messageId, receiveCount, at, state, outcome } = item;
  if (
    typeof eventId !== 'string' ||
    typeof subscriber !== 'string' ||
    typeof at !== 'number' ||
    !STATES.has(state as DeliveryState)
  )
    return undefined;
  const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
  return {
    linkId: String(item.pk),
    eventId,
    sequence: number(sequence) ?? 0,
    type: typeof type === 'string' ? type : '',
    subscriber,
    messageId: typeof messageId === 'string' ? messageId : '',
    receiveCount: number(receiveCount) ?? 0,
    at,
    state: state as DeliveryState,
    ...(outcome === 'delivered' || outcome === 'failed' || outcome === 'gone'
      ? {
          attempt: {
            outcome,
            ...(number(item.httpStatus) === undefined ? {} : { httpStatus: number(item.httpStatus)! }),
            ...(item.error === 'timeout' || item.error === 'connection' || item.error === 'refused-address'
              ? { error: item.error }
              : {}),
            ...(number(item.latencyMs) === undefined ? {} : { latencyMs: number(item.latencyMs)! }),
            ...(number(item.nextAttemptAt) === undefined
              ? {}
              : { nextAttemptAt: number(item.nextAttemptAt)! }),
          },
        }
      : {}),
  };
}
