import { Duration } from 'aws-cdk-lib';
import type { Role } from 'aws-cdk-lib/aws-iam';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { recheckQueueNames, recheckScheduleName } from '#shared/resource-names.ts';
import type { DeadLetterQueue } from './queues.ts';
import { ExactLambdaTarget, scheduledInvocation } from './scheduled-invocation.ts';
import type { TrackerFunction } from './tracker-function.ts';

export interface RecheckScheduleProps {
  readonly config: StageConfig;
  readonly recheck: TrackerFunction;
}

/**
 * EventBridge Scheduler: one schedule per shard group (`recheckParallelRuns`), each invoking
 * `recheck-pending` with `{"shardGroup": i}` every `scheduleRateMinutes`, through a role that may
 * invoke that function and write to the DLQ, nothing else. A run the scheduler started but that
 * failed, or was too old to start, goes to the function's on-failure destination.
 */
export class RecheckSchedule extends Construct {
  readonly schedules: Schedule[] = [];
  readonly deadLetterQueue: Queue;
  /** The recheck function's on-failure destination: records of asynchronous invocations that failed. */
  readonly failedRuns: Queue;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: RecheckScheduleProps) {
    super(scope, id);
    const { config } = props;
    ({
      deadLetterQueue: this.deadLetterQueue,
      failedRuns: this.failedRuns,
      role: this.role,
    } = scheduledInvocation(this, {
      config,
      function: props.recheck,
      queueNames: recheckQueueNames(config.stage),
      label: 'recheck',
      maxEventAge: Duration.minutes(config.scheduleRateMinutes),
    }));

    for (let shardGroup = 0; shardGroup < config.recheckParallelRuns; shardGroup++) {
      this.schedules.push(
        new Schedule(this, `ShardGroup${shardGroup}`, {
          scheduleName: recheckScheduleName(config.stage, shardGroup),
          description: `Rechecks the due links of shard group ${shardGroup} of ${config.recheckParallelRuns}`,
          schedule: ScheduleExpression.rate(Duration.minutes(config.scheduleRateMinutes)),
          target: new ExactLambdaTarget(props.recheck.fn, this.role, this.deadLetterQueue, { shardGroup }),
        }),
      );
    }
  }

  get deadLetterQueues(): DeadLetterQueue[] {
    return [
      { label: 'recheck schedule', queue: this.deadLetterQueue },
      {
        label: 'recheck failed runs',
        queue: this.failedRuns,
        remedy: 'inspect the error, fix its cause, then purge (the next run took over what was due)',
      },
    ];
  }
}
