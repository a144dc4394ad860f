import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm, Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { monitoringNames, stagePrefix } from '#shared/resource-names.ts';
import { createAlarms } from './monitoring-alarms.ts';
import { createDashboard } from './monitoring-dashboard.ts';
import { monitoringFigures } from './monitoring-figures.ts';
import type { DeadLetterQueue } from './queues.ts';
import type { TrackerApi } from './tracker-api.ts';
import type { TrackerFunction } from './tracker-function.ts';

export interface MonitoringProps {
  readonly config: StageConfig;
  readonly functions: {
    trackLink: TrackerFunction;
    recheck: TrackerFunction;
    deliver: TrackerFunction;
    /** Only when the stage enables discovery: its function's alarms and graphs, and its own row. */
    discover?: TrackerFunction;
  };
  readonly api: TrackerApi;
  readonly deadLetterQueues: readonly DeadLetterQueue[];
  readonly subscribers: readonly string[];
}

/**
 * Alarms to an encrypted SNS topic (e-mailed when the stage sets `alarmEmail`) and a dashboard of
 * the same figures (`monitoring-alarms.ts`, `monitoring-dashboard.ts`, both from
 * `monitoring-figures.ts`).
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, functions } = props;
    this.topic = this.alarmTopic(config);
    const figures = monitoringFigures(config, props.api);
    const fns = [functions.trackLink, functions.recheck, functions.deliver];
    if (functions.discover) fns.push(functions.discover);
    this.alarms = createAlarms(this, {
      stage: config.stage,
      functions: fns,
      deadLetterQueues: props.deadLetterQueues,
      figures,
      action: new SnsAction(this.topic),
    });
    this.dashboard = createDashboard(this, {
      stage: config.stage,
      functions: fns,
      api: props.api,
      deadLetterQueues: props.deadLetterQueues,
      subscribers: props.subscribers,
      figures,
      alarms: this.alarms,
      discovery: functions.discover !== undefined,
    });
  }

  /** The console address of the dashboard. */
  get dashboardUrl(): string {
    return `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.dashboard.dashboardName}`;
  }

  /** The alarm topic, under a key of its own: CloudWatch cannot publish to one under the AWS-managed SNS key. */
  private alarmTopic(config: StageConfig): Topic {
    const key = new Key(this, 'TopicKey', {
      description: `${stagePrefix(config.stage)} alarm topic`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    key.grant(
      new ServicePrincipal('cloudwatch.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      'kms:Decrypt',
      'kms:GenerateDataKey',
    );
    const topic = new Topic(this, 'AlarmTopic', {
      topicName: monitoringNames(config.stage).alarmTopic,
      displayName: `Payout link tracker ${config.stage} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarmEmail) topic.addSubscription(new EmailSubscription(config.alarmEmail));
    return topic;
  }
}
