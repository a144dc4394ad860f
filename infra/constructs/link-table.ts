import { RemovalPolicy } from 'aws-cdk-lib';
import {
  type Attribute,
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import {
  DUE_INDEX,
  EVENT_ID_INDEX,
  INDEXES,
  type KeyAttribute,
  OUTBOX_INDEX,
  REFERENCE_INDEX,
  STATE_INDEX,
  STATUS_INDEX,
  TABLE_KEYS,
} from '#shared/store/table-definition.ts';
import type { TrackerFunction } from './tracker-function.ts';

export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:Query'
  | 'dynamodb:BatchGetItem';

/** What one function does with the table: item actions on the table, queries on named indexes. */
export interface TableAccess {
  readonly actions: readonly TableAction[];
  readonly queryIndexes?: readonly string[];
  /** Only items with these partition keys (`dynamodb:LeadingKeys`); no access at all when empty. */
  readonly leadingKeys?: readonly string[];
}

/**
 * Each function's table access, read off `shared/store/link-store.ts` and
 * `shared/webhooks/subscriber-state.ts`. A transaction (`TransactWriteItems`) has no action of its
 * own: it is authorized per item, and the link store's transactions hold only `Put`s.
 */
export const TABLE_ACCESS = {
  /**
   * getLink, saveState/commitChanges (Put), touchIfUnchanged/markPublished (Update), listChanges (Query),
   * listLinks (byState, byStatus, byReference + BatchGet), findChanges (byEventId + BatchGet); the
   * subscriber state items (Get, Put).
   */
  trackLink: {
    actions: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      'dynamodb:BatchGetItem',
    ],
    queryIndexes: [
      STATE_INDEX.indexName,
      STATUS_INDEX.indexName,
      REFERENCE_INDEX.indexName,
      EVENT_ID_INDEX.indexName,
    ],
  },
  /**
   * markPublished/touch and the shard leases' take/renew/release (Update), getLink,
   * saveState/commitChanges (Put), queryDue/countDue (due), listUnpublished (outbox). Link ids are
   * open-ended, so no exact `dynamodb:LeadingKeys` list can narrow this (the house allows no pattern).
   */
  recheckPending: {
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    queryIndexes: [DUE_INDEX.indexName, OUTBOX_INDEX.indexName],
  },
  /** readCursor (Get), moveCursor (Put), knownLinkIds (BatchGet); registerDiscovered: getLink, saveState/commitChanges (Put), markPublished (Update). */
  discoverLinks: {
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem'],
  },
  /** The per-subscriber state (the disabled flag after a 410): get and set, on its subscribers' keys (`leadingKeys`). */
  deliverWebhooks: {
    actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  },
} as const satisfies Record<string, TableAccess>;

export function attribute(key: KeyAttribute): Attribute {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}

/**
 * The one table, built from `shared/store/table-definition.ts` (the local cloud creates the same
 * table from the same constants): on demand, point-in-time recovery, encrypted, and in a `retain`
 * stage protected from deletion and kept when the stack goes.
 */
export class LinkTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: { config: StageConfig }) {
    super(scope, id);
    const retain = props.config.removalPolicy === 'retain';
    this.table = new Table(this, 'Table', {
      partitionKey: attribute(TABLE_KEYS.partitionKey),
      sortKey: attribute(TABLE_KEYS.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const index of INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
        projectionType: index.projection === 'ALL' ? ProjectionType.ALL : ProjectionType.KEYS_ONLY,
      });
    }
  }

  indexArn(indexName: string): string {
    if (!INDEXES.some((index) => index.indexName === indexName)) {
      throw new Error(`The table has no index "${indexName}".`);
    }
    return `${this.table.tableArn}/index/${indexName}`;
  }

  /** Exactly the access given: the actions on the table (on `leadingKeys` only, if given), `dynamodb:Query` on the named indexes. */
  grant(fn: TrackerFunction, access: TableAccess): void {
    if (access.leadingKeys) {
      if (access.leadingKeys.length === 0) return;
      fn.allow(access.actions, [this.table.tableArn], {
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...access.leadingKeys] },
      });
    } else fn.allow(access.actions, [this.table.tableArn]);
    if (access.queryIndexes?.length) {
      fn.allow(
        ['dynamodb:Query'],
        access.queryIndexes.map((name) => this.indexArn(name)),
      );
    }
  }
}
