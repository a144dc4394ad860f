import { RemovalPolicy } from 'aws-cdk-lib';
import { BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import {
  DELIVERY_TABLE_KEYS,
  DELIVERY_TTL_ATTRIBUTE,
  SUBSCRIBER_INDEX,
} from '#shared/store/delivery-table-definition.ts';
import { attribute } from './link-table.ts';
import type { TrackerFunction } from './tracker-function.ts';

/**
 * The webhook attempt log, built from `shared/store/delivery-table-definition.ts` (the local cloud
 * creates the same table from the same constants): on demand, encrypted, point-in-time recovery,
 * items expiring 30 days after their attempt (DynamoDB TTL), kept with a `retain` stage's data.
 */
export class DeliveryTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: { config: StageConfig }) {
    super(scope, id);
    const retain = props.config.removalPolicy === 'retain';
    this.table = new Table(this, 'Table', {
      partitionKey: attribute(DELIVERY_TABLE_KEYS.partitionKey),
      sortKey: attribute(DELIVERY_TABLE_KEYS.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: DELIVERY_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: SUBSCRIBER_INDEX.indexName,
      partitionKey: attribute(SUBSCRIBER_INDEX.partitionKey),
      sortKey: attribute(SUBSCRIBER_INDEX.sortKey),
      projectionType: ProjectionType.KEYS_ONLY,
    });
  }

  /** The deliverer's one write per attempt: `PutItem` on the table, nothing else. */
  grantRecord(fn: TrackerFunction): void {
    fn.allow(['dynamodb:PutItem'], [this.table.tableArn]);
  }

  /** The API's reads: a link's deliveries (Query on the table) and subscriber health (Query on its index). */
  grantRead(fn: TrackerFunction): void {
    fn.allow(
      ['dynamodb:Query'],
      [this.table.tableArn, `${this.table.tableArn}/index/${SUBSCRIBER_INDEX.indexName}`],
    );
  }
}
