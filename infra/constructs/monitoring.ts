import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { METRICS_NAMESPACE } from '#shared/observability/emf.ts';
import type { DeadLetterQueue } from './queues.ts';
import type { TrackerApi } from './tracker-api.ts';
import type { TrackerFunction } from './tracker-function.ts';

/** Alarm thresholds, in one place. */
export const ALARM_THRESHOLDS = {
  /** Percent of checked links whose upstream call failed, over 5 minutes, 3 periods running. */
  upstreamErrorRatePercent: 20,
  /** Percent of API requests answered 5xx, over 5 minutes, 2 of 3 periods (with at least 5 requests). */
  api5xxRatePercent: 5,
  /** The oldest due link may be this many schedule periods late. */
  oldestDueSchedulePeriods: 2,
  /** A recorded change may wait this long for the bus (republishing takes it after 30 s). */
  oldestUnpublishedSeconds: 900,
} as const;

export interface MonitoringProps {
  readonly config: StageConfig;
  readonly functions: { trackLink: TrackerFunction; recheck: TrackerFunction; deliver: TrackerFunction };
  readonly api: TrackerApi;
  readonly deadLetterQueues: readonly DeadLetterQueue[];
  readonly subscribers: readonly string[];
}

/**
 * Alarms to an encrypted SNS topic (e-mailed when the stage sets `alarmEmail`) and a dashboard of
 * the same figures: any DLQ not empty, function errors and throttles, the upstream error rate, the
 * oldest due link, the outbox (oldest unpublished change, quarantined changes), the API's 5xx rate.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, functions, api } = props;
    const prefix = `payout-link-tracker-${config.stage}`;
    const fiveMinutes = Duration.minutes(5);

    // A key of our own: CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.
    const key = new Key(this, 'TopicKey', {
      description: `${prefix} alarm topic`,
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
    this.topic = new Topic(this, 'AlarmTopic', {
      topicName: `${prefix}-alarms`,
      displayName: `Payout link tracker ${config.stage} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarmEmail) this.topic.addSubscription(new EmailSubscription(config.alarmEmail));
    const action = new SnsAction(this.topic);

    const alarm = (name: string, make: (alarmName: string) => Alarm): Alarm => {
      const created = make(`${prefix}-${name}`);
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    for (const [index, dlq] of props.deadLetterQueues.entries()) {
      alarm(`dlq-${dlq.label.replace(/[^A-Za-z0-9]+/g, '-')}`, (alarmName) =>
        dlq.queue
          .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' })
          .createAlarm(this, `DeadLetters${index}`, {
            alarmName,
            alarmDescription: `Messages in the ${dlq.label} dead-letter queue: ${dlq.remedy ?? 'inspect, fix, then redrive them'}.`,
            threshold: 0,
            comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
      );
    }

    const fns = [functions.trackLink, functions.recheck, functions.deliver];
    for (const fn of fns) {
      const name = fn.serviceName;
      alarm(`${name}-errors`, (alarmName) =>
        fn.fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }).createAlarm(this, `${name}-Errors`, {
          alarmName,
          alarmDescription: `${fn.functionName} failed invocations in 2 of the last 3 five-minute periods.`,
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
      alarm(`${name}-throttles`, (alarmName) =>
        fn.fn
          .metricThrottles({ period: fiveMinutes, statistic: 'Sum' })
          .createAlarm(this, `${name}-Throttles`, {
            alarmName,
            alarmDescription: `${fn.functionName} was throttled (account or reserved concurrency exhausted).`,
            threshold: 1,
            comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
      );
    }

    const recheckMetric = (metricName: string, statistic = 'Sum'): Metric =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: 'recheck-pending', stage: config.stage },
        statistic,
        period: fiveMinutes,
      });
    const upstreamErrorRate = new MathExpression({
      label: 'Upstream error rate (%)',
      expression: 'IF(checked > 0, 100 * errors / checked, 0)',
      usingMetrics: { errors: recheckMetric('UpstreamErrors'), checked: recheckMetric('LinksChecked') },
      period: fiveMinutes,
    });
    alarm('upstream-error-rate', (alarmName) =>
      upstreamErrorRate.createAlarm(this, 'UpstreamErrorRate', {
        alarmName,
        alarmDescription: `More than ${ALARM_THRESHOLDS.upstreamErrorRatePercent} % of InstantPay checks failed for 15 minutes.`,
        threshold: ALARM_THRESHOLDS.upstreamErrorRatePercent,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    const oldestDueLimit = ALARM_THRESHOLDS.oldestDueSchedulePeriods * config.scheduleRateMinutes * 60;
    const oldestDue = recheckMetric('OldestDueAgeSeconds', 'Maximum');
    alarm('oldest-due-link', (alarmName) =>
      oldestDue.createAlarm(this, 'OldestDueLink', {
        alarmName,
        alarmDescription: `A due link has waited more than ${oldestDueLimit} s (${ALARM_THRESHOLDS.oldestDueSchedulePeriods} schedule periods), or the recheck reports nothing at all.`,
        threshold: oldestDueLimit,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        // Every run reports the figure, even with nothing due: silence means no run.
        treatMissingData: TreatMissingData.BREACHING,
      }),
    );

    const oldestUnpublished = recheckMetric('OldestUnpublishedAgeSeconds', 'Maximum');
    alarm('outbox-oldest-unpublished', (alarmName) =>
      oldestUnpublished.createAlarm(this, 'OldestUnpublished', {
        alarmName,
        alarmDescription: `A recorded change has waited more than ${ALARM_THRESHOLDS.oldestUnpublishedSeconds} s for the bus: EventBridge refuses it (permissions, the bus) or republishing fails.`,
        threshold: ALARM_THRESHOLDS.oldestUnpublishedSeconds,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    const quarantined = recheckMetric('OutboxQuarantined', 'Maximum');
    alarm('outbox-quarantined', (alarmName) =>
      quarantined.createAlarm(this, 'OutboxQuarantined', {
        alarmName,
        alarmDescription:
          'A recorded change the bus refuses for good (too large, malformed) was set aside: no subscriber has it. See the runbook.',
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    const finalConflicts = ['track-link', 'recheck-pending'].map(
      (service) =>
        new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: 'UpstreamFinalConflicts',
          dimensionsMap: { service, stage: config.stage },
          statistic: 'Sum',
          period: fiveMinutes,
          label: `${service} UpstreamFinalConflicts`,
        }),
    );

    const api5xxRate = new MathExpression({
      label: 'API 5xx rate (%)',
      expression: 'IF(requests >= 5, 100 * errors / requests, 0)',
      usingMetrics: { errors: api.metric('5xx'), requests: api.metric('Count') },
      period: fiveMinutes,
    });
    alarm('api-5xx-rate', (alarmName) =>
      api5xxRate.createAlarm(this, 'Api5xxRate', {
        alarmName,
        alarmDescription: `More than ${ALARM_THRESHOLDS.api5xxRatePercent} % of API requests failed with 5xx in 2 of 3 five-minute periods.`,
        threshold: ALARM_THRESHOLDS.api5xxRatePercent,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: prefix,
      defaultInterval: Duration.hours(3),
    });
    const webhookMetric = (metricName: string, subscriber: string, statistic = 'Sum'): Metric =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: 'deliver-webhooks', stage: config.stage, subscriber },
        statistic,
        period: fiveMinutes,
        label: `${subscriber} ${metricName}`,
      });
    const graph = (
      title: string,
      left: IMetric[],
      extra: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {},
    ) => new GraphWidget({ title, left, width: 8, height: 6, ...extra });

    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# Payout link tracker (${config.stage})\nAlarms go to SNS topic \`${prefix}-alarms\`.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      graph('Recheck: links checked, transitions, upstream errors, republished', [
        recheckMetric('LinksChecked'),
        recheckMetric('TransitionsRecorded'),
        recheckMetric('UpstreamErrors'),
        recheckMetric('Republished'),
      ]),
      graph('Upstream error rate (%)', [upstreamErrorRate], {
        leftAnnotations: [{ value: ALARM_THRESHOLDS.upstreamErrorRatePercent, label: 'alarm' }],
      }),
      graph('Due links: backlog and oldest age (s)', [recheckMetric('DueBacklog', 'Maximum')], {
        right: [oldestDue],
        rightAnnotations: [{ value: oldestDueLimit, label: 'alarm' }],
      }),
    );
    this.dashboard.addWidgets(
      graph('Detection delay (s)', [
        recheckMetric('DetectionDelaySeconds', 'p50'),
        recheckMetric('DetectionDelaySeconds', 'p90'),
        recheckMetric('DetectionDelaySeconds', 'Maximum'),
      ]),
      graph('API requests and errors', [api.metric('Count'), api.metric('4xx'), api.metric('5xx')]),
      graph('API 5xx rate (%) and latency (ms)', [api5xxRate], {
        leftAnnotations: [{ value: ALARM_THRESHOLDS.api5xxRatePercent, label: 'alarm' }],
        right: [api.metric('Latency', 'p50'), api.metric('Latency', 'p99')],
      }),
    );
    this.dashboard.addWidgets(
      graph(
        'Outbox: backlog and quarantined; oldest unpublished (s)',
        [recheckMetric('OutboxBacklog', 'Maximum'), quarantined],
        {
          right: [oldestUnpublished],
          rightAnnotations: [{ value: ALARM_THRESHOLDS.oldestUnpublishedSeconds, label: 'alarm' }],
        },
      ),
      graph('InstantPay disagreeing with a final status (nothing recorded)', finalConflicts),
    );
    this.dashboard.addWidgets(
      graph(
        'Function errors',
        fns.map((fn) => fn.fn.metricErrors({ period: fiveMinutes, label: fn.serviceName })),
      ),
      graph(
        'Function throttles',
        fns.map((fn) => fn.fn.metricThrottles({ period: fiveMinutes, label: fn.serviceName })),
      ),
      graph(
        'Function duration p99 (ms)',
        fns.map((fn) =>
          fn.fn.metricDuration({ period: fiveMinutes, statistic: 'p99', label: fn.serviceName }),
        ),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Dead-letter queues: messages',
        props.deadLetterQueues.map((dlq) =>
          dlq.queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
            label: dlq.label,
          }),
        ),
      ),
      graph(
        'Webhooks: delivered and failed',
        props.subscribers.flatMap((name) => [
          webhookMetric('WebhookDelivered', name),
          webhookMetric('WebhookFailed', name),
        ]),
      ),
      graph(
        'Webhooks: latency p99 (ms)',
        props.subscribers.map((name) => webhookMetric('WebhookLatencyMs', name, 'p99')),
      ),
    );
  }

  /** The console address of the dashboard. */
  get dashboardUrl(): string {
    return `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.dashboard.dashboardName}`;
  }
}
