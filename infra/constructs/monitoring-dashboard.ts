import { Duration } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IMetric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { METRICS } from '#shared/observability/metric-names.ts';
import { monitoringNames } from '#shared/resource-names.ts';
import { ALARM_THRESHOLDS, FIVE_MINUTES, type MonitoringFigures } from './monitoring-figures.ts';
import type { DeadLetterQueue } from './queues.ts';
import type { TrackerApi } from './tracker-api.ts';
import type { TrackerFunction } from './tracker-function.ts';

export interface DashboardProps {
  readonly stage: string;
  readonly functions: readonly TrackerFunction[];
  readonly api: TrackerApi;
  readonly deadLetterQueues: readonly DeadLetterQueue[];
  readonly subscribers: readonly string[];
  readonly figures: MonitoringFigures;
  readonly alarms: readonly Alarm[];
  /** The stage runs discovery: a row of its own. */
  readonly discovery?: boolean;
}

const graph = (
  title: string,
  left: IMetric[],
  extra: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {},
) => new GraphWidget({ title, left, width: 8, height: 6, ...extra });

/** The stage's dashboard, in `scope`: the alarms' state, then a row of graphs per concern. */
export function createDashboard(scope: Construct, props: DashboardProps): Dashboard {
  const names = monitoringNames(props.stage);
  const dashboard = new Dashboard(scope, 'Dashboard', {
    dashboardName: names.dashboard,
    defaultInterval: Duration.hours(3),
  });
  dashboard.addWidgets(
    new TextWidget({
      markdown: `# Payout link tracker (${props.stage})\nAlarms go to SNS topic \`${names.alarmTopic}\`.`,
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 }),
  );
  dashboard.addWidgets(...recheckRow(props.figures));
  if (props.discovery) dashboard.addWidgets(...discoveryRow(props.figures));
  dashboard.addWidgets(...delayAndApiRow(props.figures, props.api));
  dashboard.addWidgets(...outboxRow(props.figures));
  dashboard.addWidgets(...functionRow(props.functions));
  dashboard.addWidgets(...queueAndWebhookRow(props));
  return dashboard;
}

function discoveryRow(figures: MonitoringFigures): GraphWidget[] {
  return [
    graph('Discovery: links found unregistered, List pages read', [
      figures.discovery(METRICS.linksDiscovered),
      figures.discovery(METRICS.discoveryPagesRead),
    ]),
  ];
}

function recheckRow(figures: MonitoringFigures): GraphWidget[] {
  const { recheck } = figures;
  return [
    graph('Recheck: links checked, transitions, upstream errors, republished', [
      recheck(METRICS.linksChecked),
      recheck(METRICS.transitionsRecorded),
      recheck(METRICS.upstreamErrors),
      recheck(METRICS.republished),
    ]),
    graph('Upstream error rate (%)', [figures.upstreamErrorRate], {
      leftAnnotations: [{ value: ALARM_THRESHOLDS.upstreamErrorRatePercent, label: 'alarm' }],
    }),
    graph('Due links: backlog and oldest age (s)', [recheck(METRICS.dueBacklog, 'Maximum')], {
      right: [figures.oldestDue],
      rightAnnotations: [{ value: figures.oldestDueLimitSeconds, label: 'alarm' }],
    }),
  ];
}

function delayAndApiRow(figures: MonitoringFigures, api: TrackerApi): GraphWidget[] {
  const delay = METRICS.detectionDelaySeconds;
  return [
    graph('Detection delay (s)', [
      figures.recheck(delay, 'p50'),
      figures.recheck(delay, 'p90'),
      figures.recheck(delay, 'Maximum'),
    ]),
    graph('API requests and errors', [api.metric('Count'), api.metric('4xx'), api.metric('5xx')]),
    graph('API 5xx rate (%) and latency (ms)', [figures.api5xxRate], {
      leftAnnotations: [{ value: ALARM_THRESHOLDS.api5xxRatePercent, label: 'alarm' }],
      right: [api.metric('Latency', 'p50'), api.metric('Latency', 'p99')],
    }),
  ];
}

function outboxRow(figures: MonitoringFigures): GraphWidget[] {
  return [
    graph(
      'Outbox: backlog and quarantined; oldest unpublished (s)',
      [figures.recheck(METRICS.outboxBacklog, 'Maximum'), figures.quarantined],
      {
        right: [figures.oldestUnpublished],
        rightAnnotations: [{ value: ALARM_THRESHOLDS.oldestUnpublishedSeconds, label: 'alarm' }],
      },
    ),
    graph('InstantPay disagreeing with a final status (nothing recorded)', figures.finalConflicts),
  ];
}

function functionRow(functions: readonly TrackerFunction[]): GraphWidget[] {
  return [
    graph(
      'Function errors',
      functions.map((fn) => fn.fn.metricErrors({ period: FIVE_MINUTES, label: fn.serviceName })),
    ),
    graph(
      'Function throttles',
      functions.map((fn) => fn.fn.metricThrottles({ period: FIVE_MINUTES, label: fn.serviceName })),
    ),
    graph(
      'Function duration p99 (ms)',
      functions.map((fn) =>
        fn.fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99', label: fn.serviceName }),
      ),
    ),
  ];
}

function queueAndWebhookRow(props: DashboardProps): GraphWidget[] {
  const { webhook } = props.figures;
  return [
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
        webhook(METRICS.webhookDelivered, name),
        webhook(METRICS.webhookFailed, name),
      ]),
    ),
    graph(
      'Webhooks: latency p99 (ms)',
      props.subscribers.map((name) => webhook(METRICS.webhookLatencyMs, name, 'p99')),
    ),
  ];
}
