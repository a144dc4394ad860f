import { Duration } from 'aws-cdk-lib';
import { type Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Construct } from 'constructs';
import { monitoringNames } from '#shared/resource-names.ts';
import { ALARM_THRESHOLDS, FIVE_MINUTES, type MonitoringFigures } from './monitoring-figures.ts';
import type { DeadLetterQueue } from './queues.ts';
import type { TrackerFunction } from './tracker-function.ts';

export interface AlarmsProps {
  readonly stage: string;
  readonly functions: readonly TrackerFunction[];
  readonly deadLetterQueues: readonly DeadLetterQueue[];
  readonly figures: MonitoringFigures;
  /** Where every alarm and its return to OK is sent. */
  readonly action: SnsAction;
}

type AlarmName = (what: string) => string;

/** Alarms on a figure that should stay at zero: one period above it is enough. */
const ABOVE_ZERO = {
  threshold: 0,
  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
  evaluationPeriods: 1,
  treatMissingData: TreatMissingData.NOT_BREACHING,
} as const;
/** Alarms when 2 of the last 3 periods breach, riding out one bad period. */
const TWO_OF_THREE = { evaluationPeriods: 3, datapointsToAlarm: 2 } as const;

/**
 * The stage's alarms, made in `scope` (their ids are its children: never moved, or CloudFormation
 * would replace the named alarms), each sending its alarm and its return to OK to `action`.
 */
export function createAlarms(scope: Construct, props: AlarmsProps): Alarm[] {
  const name = monitoringNames(props.stage).alarm;
  const alarms = [
    ...deadLetterAlarms(scope, name, props.deadLetterQueues),
    ...functionAlarms(scope, name, props.functions),
    ...figureAlarms(scope, name, props.figures),
  ];
  for (const alarm of alarms) {
    alarm.addAlarmAction(props.action);
    alarm.addOkAction(props.action);
  }
  return alarms;
}

/** Any message in a dead-letter queue. */
function deadLetterAlarms(scope: Construct, name: AlarmName, queues: readonly DeadLetterQueue[]): Alarm[] {
  return queues.map((dlq, index) =>
    dlq.queue
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' })
      .createAlarm(scope, `DeadLetters${index}`, {
        alarmName: name(`dlq-${dlq.label.replace(/[^A-Za-z0-9]+/g, '-')}`),
        alarmDescription: `Messages in the ${dlq.label} dead-letter queue: ${dlq.remedy ?? 'inspect, fix, then redrive them'}.`,
        ...ABOVE_ZERO,
      }),
  );
}

/** Each function's failed invocations and throttles. */
function functionAlarms(scope: Construct, name: AlarmName, functions: readonly TrackerFunction[]): Alarm[] {
  return functions.flatMap((fn) => [
    fn.fn
      .metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' })
      .createAlarm(scope, `${fn.serviceName}-Errors`, {
        alarmName: name(`${fn.serviceName}-errors`),
        alarmDescription: `${fn.functionName} failed invocations in 2 of the last 3 five-minute periods.`,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        ...TWO_OF_THREE,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    fn.fn
      .metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' })
      .createAlarm(scope, `${fn.serviceName}-Throttles`, {
        alarmName: name(`${fn.serviceName}-throttles`),
        alarmDescription: `${fn.functionName} was throttled (account or reserved concurrency exhausted).`,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
  ]);
}

/** The tracker's own figures: upstream error rate, oldest due link, the outbox, the API's 5xx rate. */
function figureAlarms(scope: Construct, name: AlarmName, figures: MonitoringFigures): Alarm[] {
  return [
    figures.upstreamErrorRate.createAlarm(scope, 'UpstreamErrorRate', {
      alarmName: name('upstream-error-rate'),
      alarmDescription: `More than ${ALARM_THRESHOLDS.upstreamErrorRatePercent} % of InstantPay checks failed for 15 minutes.`,
      threshold: ALARM_THRESHOLDS.upstreamErrorRatePercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }),
    figures.oldestDue.createAlarm(scope, 'OldestDueLink', {
      alarmName: name('oldest-due-link'),
      alarmDescription: `A due link has waited more than ${figures.oldestDueLimitSeconds} s (${ALARM_THRESHOLDS.oldestDueSchedulePeriods} schedule periods), or the recheck reports nothing at all.`,
      threshold: figures.oldestDueLimitSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...TWO_OF_THREE,
      // Every run reports the figure, even with nothing due: silence means no run.
      treatMissingData: TreatMissingData.BREACHING,
    }),
    figures.oldestUnpublished.createAlarm(scope, 'OldestUnpublished', {
      alarmName: name('outbox-oldest-unpublished'),
      alarmDescription: `A recorded change has waited more than ${ALARM_THRESHOLDS.oldestUnpublishedSeconds} s for the bus: EventBridge refuses it (permissions, the bus) or republishing fails.`,
      threshold: ALARM_THRESHOLDS.oldestUnpublishedSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...TWO_OF_THREE,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }),
    figures.quarantined.createAlarm(scope, 'OutboxQuarantined', {
      alarmName: name('outbox-quarantined'),
      alarmDescription:
        'A recorded change the bus refuses for good (too large, malformed) was set aside: no subscriber has it. See the runbook.',
      ...ABOVE_ZERO,
    }),
    figures.api5xxRate.createAlarm(scope, 'Api5xxRate', {
      alarmName: name('api-5xx-rate'),
      alarmDescription: `More than ${ALARM_THRESHOLDS.api5xxRatePercent} % of API requests failed with 5xx in 2 of 3 five-minute periods.`,
      threshold: ALARM_THRESHOLDS.api5xxRatePercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...TWO_OF_THREE,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }),
  ];
}
