import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { StageConfig } from '#infra/config/stage-config.ts';
import {
  METRICS,
  METRICS_NAMESPACE,
  type MetricDefinition,
  metricDimensions,
} from '#shared/observability/metric-names.ts';
import { FUNCTION_NAMES, type FunctionName } from '#shared/resource-names.ts';
import type { TrackerApi } from './tracker-api.ts';

/** Alarm thresholds, in one place: the alarms use them and the dashboard draws them. */
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

export const FIVE_MINUTES = Duration.minutes(5);

/**
 * The figures the alarms watch and the dashboard draws, built once from the metric names the
 * functions write (`shared/observability/metric-names.ts`).
 */
export function monitoringFigures(config: StageConfig, api: TrackerApi) {
  const metric = (
    service: FunctionName,
    definition: MetricDefinition,
    options: { statistic?: string; subscriber?: string; label?: string } = {},
  ): Metric =>
    new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: definition.name,
      dimensionsMap: metricDimensions(
        service,
        config.stage,
        options.subscriber === undefined ? {} : { subscriber: options.subscriber },
      ),
      statistic: options.statistic ?? 'Sum',
      period: FIVE_MINUTES,
      ...(options.label === undefined ? {} : { label: options.label }),
    });
  const recheck = (definition: MetricDefinition, statistic = 'Sum') =>
    metric(FUNCTION_NAMES.recheckPending, definition, { statistic });
  const webhook = (definition: MetricDefinition, subscriber: string, statistic = 'Sum') =>
    metric(FUNCTION_NAMES.deliverWebhooks, definition, {
      statistic,
      subscriber,
      label: `${subscriber} ${definition.name}`,
    });

  const discovery = (definition: MetricDefinition) => metric(FUNCTION_NAMES.discoverLinks, definition);

  return {
    recheck,
    webhook,
    discovery,
    upstreamErrorRate: new MathExpression({
      label: 'Upstream error rate (%)',
      expression: 'IF(checked > 0, 100 * errors / checked, 0)',
      usingMetrics: { errors: recheck(METRICS.upstreamErrors), checked: recheck(METRICS.linksChecked) },
      period: FIVE_MINUTES,
    }),
    oldestDueLimitSeconds: ALARM_THRESHOLDS.oldestDueSchedulePeriods * config.scheduleRateMinutes * 60,
    oldestDue: recheck(METRICS.oldestDueAgeSeconds, 'Maximum'),
    oldestUnpublished: recheck(METRICS.oldestUnpublishedAgeSeconds, 'Maximum'),
    quarantined: recheck(METRICS.outboxQuarantined, 'Maximum'),
    // The core counts them in whichever function met the contradiction.
    finalConflicts: [FUNCTION_NAMES.trackLink, FUNCTION_NAMES.recheckPending].map((service) =>
      metric(service, METRICS.upstreamFinalConflicts, {
        label: `${service} ${METRICS.upstreamFinalConflicts.name}`,
      }),
    ),
    api5xxRate: new MathExpression({
      label: 'API 5xx rate (%)',
      expression: 'IF(requests >= 5, 100 * errors / requests, 0)',
      usingMetrics: { errors: api.metric('5xx'), requests: api.metric('Count') },
      period: FIVE_MINUTES,
    }),
  };
}

export type MonitoringFigures = ReturnType<typeof monitoringFigures>;
