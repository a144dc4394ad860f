import { Duration } from 'aws-cdk-lib';
import type { Role } from 'aws-cdk-lib/aws-iam';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { DEFAULTS } from '#shared/config/defaults.ts';
import { discoveryNames } from '#shared/resource-names.ts';
import type { DeadLetterQueue } from './queues.ts';
import { ExactLambdaTarget, scheduledInvocation } from './scheduled-invocation.ts';
import type { TrackerFunction } from './tracker-function.ts';

export interface DiscoveryScheduleProps {
  readonly config: StageConfig;
  readonly discover: TrackerFunction;
}

/**
 * EventBridge Scheduler: one schedule invoking `discover-links` every `discovery.everyMinutes`,
 * through a role that may invoke that function and write to its DLQ, nothing else. A run that failed
 * goes to the function's on-failure destination; the next run resumes from the cursor anyway.
 */
export class DiscoverySchedule extends Construct {
  readonly schedule: Schedule;
  readonly deadLetterQueue: Queue;
  readonly failedRuns: Queue;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: DiscoveryScheduleProps) {
    super(scope, id);
    const { config } = props;
    const discover = props.discover.fn;
    const everyMinutes = config.discovery.everyMinutes ?? DEFAULTS.discoveryEveryMinutes;
    const names = discoveryNames(config.stage);

    ({
      deadLetterQueue: this.deadLetterQueue,
      failedRuns: this.failedRuns,
      role: this.role,
    } = scheduledInvocation(this, {
      config,
      function: props.discover,
      queueNames: names,
      label: 'discovery',
      // Not retried: the next scheduled run resumes from the cursor.
      maxEventAge: Duration.minutes(Math.min(everyMinutes, 360)),
    }));
    this.schedule = new Schedule(this, 'Schedule', {
      scheduleName: names.schedule,
      description: `Lists the merchant's payout links and watches the ones nobody registered, every ${everyMinutes} min`,
      schedule: ScheduleExpression.rate(Duration.minutes(everyMinutes)),
      target: new ExactLambdaTarget(discover, this.role, this.deadLetterQueue, {}),
    });
  }

  get deadLetterQueues(): DeadLetterQueue[] {
    return [
      { label: 'discovery schedule', queue: this.deadLetterQueue },
      {
        label: 'discovery failed runs',
        queue: this.failedRuns,
        remedy: 'inspect the error, fix its cause, then purge (the next run resumes from the cursor)',
      },
    ];
  }
}
