import { CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { functionEnvironment } from '#infra/config/function-environment.ts';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { FUNCTION_NAMES, PROJECT } from '#shared/resource-names.ts';
import { DeliveryTable } from './constructs/delivery-table.ts';
import { DiscoverySchedule } from './constructs/discovery-schedule.ts';
import { LinkEvents } from './constructs/link-events.ts';
import { LinkTable, TABLE_ACCESS } from './constructs/link-table.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { RecheckSchedule } from './constructs/recheck-schedule.ts';
import { StageKey } from './constructs/stage-key.ts';
import { TrackerApi } from './constructs/tracker-api.ts';
import { TrackerFunction } from './constructs/tracker-function.ts';
import { TrackerSecrets } from './constructs/tracker-secrets.ts';
import { WebhookSubscribers } from './constructs/webhook-subscribers.ts';

export interface PayoutLinkTrackerStackProps extends StackProps {
  readonly config: StageConfig;
}

/** One stage of the payout link tracker: every concern is a construct, composed here. */
export class PayoutLinkTrackerStack extends Stack {
  readonly config: StageConfig;
  readonly stageKey: StageKey;
  readonly table: LinkTable;
  readonly deliveries: DeliveryTable;
  readonly events: LinkEvents;
  readonly secrets: TrackerSecrets;
  readonly trackLink: TrackerFunction;
  readonly recheck: TrackerFunction;
  readonly schedule: RecheckSchedule;
  /** Only in a stage whose config enables discovery. */
  readonly discover: TrackerFunction | undefined;
  readonly discoverySchedule: DiscoverySchedule | undefined;
  readonly webhooks: WebhookSubscribers;
  readonly api: TrackerApi;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: PayoutLinkTrackerStackProps) {
    super(scope, id, {
      description: `Payout link tracker (${props.config.stage}): InstantPay payout link changes to EventBridge and webhooks`,
      ...props,
    });
    const config = props.config;
    this.config = config;
    // CloudFormation's Dashboard takes no Tags (cfn-lint E3002), though the L1 offers them.
    const tagOptions = { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] };
    Tags.of(this).add('project', PROJECT, tagOptions);
    Tags.of(this).add('stage', config.stage, tagOptions);

    this.stageKey = new StageKey(this, 'StageKey', { config });
    const stageKey = this.stageKey;
    this.table = new LinkTable(this, 'Links', { config });
    this.deliveries = new DeliveryTable(this, 'Deliveries', { config });
    this.events = new LinkEvents(this, 'Events', { config });
    this.secrets = new TrackerSecrets(this, 'Secrets', { config, stageKey });
    // Before track-link: the API resends to and enables subscribers through their queues.
    this.webhooks = new WebhookSubscribers(this, 'Webhooks', {
      config,
      bus: this.events.bus,
      table: this.table,
      deliveries: this.deliveries,
      secrets: this.secrets,
      stageKey,
    });

    const resources = { tableName: this.table.table.tableName, eventBusName: this.events.bus.eventBusName };
    this.trackLink = new TrackerFunction(this, 'TrackLink', {
      name: FUNCTION_NAMES.trackLink,
      entry: 'functions/track-link/handler.ts',
      config,
      stageKey,
      noDeadLetterQueueReason:
        "Invoked synchronously by the HTTP API only: a failure is the caller's 5xx answer (alarmed on), there is no asynchronous event to keep.",
      description:
        'HTTP API: tracks a payout link now, registers it for watching, lists links, events and webhook deliveries',
      memorySize: 512,
      // Under the HTTP API's 30 s integration limit.
      timeout: Duration.seconds(29),
      environment: functionEnvironment(FUNCTION_NAMES.trackLink, config, {
        ...resources,
        deliveriesTableName: this.deliveries.table.tableName,
        webhookSubscribers: this.webhooks.targetsJson,
      }),
    })
      .grantTable(this.table, TABLE_ACCESS.trackLink)
      .grantPutEvents(this.events.bus)
      .grantSecretRead(this.secrets.instantPay);
    this.deliveries.grantRead(this.trackLink);
    this.webhooks.grantAdmin(this.trackLink);

    this.recheck = new TrackerFunction(this, 'RecheckPending', {
      name: FUNCTION_NAMES.recheckPending,
      entry: 'functions/recheck-pending/handler.ts',
      config,
      stageKey,
      noDeadLetterQueueReason:
        "Its asynchronous invocations (the scheduler's) go on failure to an on-failure destination, the recheck-failed-runs queue (alarmed on), which also records the error; a DLQ as well would keep each failure twice.",
      description: 'Scheduled: rechecks the due links of one shard group and republishes the outbox',
      memorySize: 512,
      timeout: Duration.seconds(60),
      environment: functionEnvironment(FUNCTION_NAMES.recheckPending, config, resources),
    })
      .grantTable(this.table, TABLE_ACCESS.recheckPending)
      .grantPutEvents(this.events.bus)
      .grantSecretRead(this.secrets.instantPay);
    this.schedule = new RecheckSchedule(this, 'RecheckSchedule', { config, recheck: this.recheck });
    if (config.discovery.enabled) {
      this.discover = new TrackerFunction(this, 'DiscoverLinks', {
        name: FUNCTION_NAMES.discoverLinks,
        entry: 'functions/discover-links/handler.ts',
        config,
        stageKey,
        noDeadLetterQueueReason:
          "Its asynchronous invocations (the scheduler's) go on failure to an on-failure destination, the discovery-failed-runs queue (alarmed on); the next run resumes from the cursor.",
        description: "Scheduled: lists the merchant's payout links and watches the ones nobody registered",
        memorySize: 512,
        timeout: Duration.seconds(60),
        environment: functionEnvironment(FUNCTION_NAMES.discoverLinks, config, resources),
      })
        .grantTable(this.table, TABLE_ACCESS.discoverLinks)
        .grantPutEvents(this.events.bus)
        .grantSecretRead(this.secrets.instantPay);
      this.discoverySchedule = new DiscoverySchedule(this, 'DiscoverySchedule', {
        config,
        discover: this.discover,
      });
    }
    this.api = new TrackerApi(this, 'Api', { config, handler: this.trackLink.fn, stageKey });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      config,
      functions: {
        trackLink: this.trackLink,
        recheck: this.recheck,
        deliver: this.webhooks.deliver,
        ...(this.discover ? { discover: this.discover } : {}),
      },
      api: this.api,
      deadLetterQueues: [
        ...this.schedule.deadLetterQueues,
        ...(this.discoverySchedule?.deadLetterQueues ?? []),
        ...this.webhooks.deadLetterQueues,
      ],
      subscribers: config.subscribers.map((subscriber) => subscriber.name),
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'HTTP API base URL (SigV4)' });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName });
    new CfnOutput(this, 'EventBusArn', { value: this.events.bus.eventBusArn });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new CfnOutput(this, 'DeliveriesTableName', {
      value: this.deliveries.table.tableName,
      description: 'The webhook attempt log (30 days)',
    });
    new CfnOutput(this, 'InstantPaySecretName', {
      value: config.instantPaySecretName,
      description: 'Set it to {"clientId", "clientSecret", "endpointIp"} after the first deploy',
    });
    if (config.subscribers.length > 0) {
      new CfnOutput(this, 'WebhookSecretNames', {
        value: config.subscribers
          .map((subscriber) => `${subscriber.name}=${subscriber.secretName}`)
          .join(','),
        description: 'Webhook signing secrets by subscriber (give each subscriber its current whsec_ value)',
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'DashboardUrl', { value: this.monitoring.dashboardUrl });
  }
}
