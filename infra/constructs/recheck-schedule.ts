import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type ISchedule,
  type IScheduleTarget,
  Schedule,
  ScheduleExpression,
  type ScheduleTargetConfig,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { recheckQueueNames, recheckScheduleName } from '#shared/resource-names.ts';
import { acknowledgeEndOfFailurePath, type DeadLetterQueue, secureQueue } from './queues.ts';
import { INLINE_POLICY_REASON, type TrackerFunction } from './tracker-function.ts';

/**
 * A run that could not be started is retried briefly and then left to the next one (a minute
 * later): the backlog carries over, nothing is lost. The failed invocation lands in the DLQ.
 */
export const SCHEDULE_RETRY = { retryAttempts: 2, maxEventAge: Duration.minutes(1) } as const;

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
    const recheck = props.recheck.fn;
    const stack = Stack.of(this);

    const queueNames = recheckQueueNames(config.stage);
    this.deadLetterQueue = secureQueue(this, 'DeadLetters', config, {
      queueName: queueNames.scheduleDeadLetters,
    });
    acknowledgeEndOfFailurePath(this.deadLetterQueue, 'the schedule target dead-letter queue');

    this.failedRuns = secureQueue(this, 'FailedRuns', config, {
      queueName: queueNames.failedRuns,
    });
    acknowledgeEndOfFailurePath(this.failedRuns, "the recheck function's on-failure destination");
    // Lambda writes the record with the function's role: SendMessage, not CDK's SqsDestination's three actions.
    props.recheck.allow(['sqs:SendMessage'], [this.failedRuns.queueArn]);
    const failedRunsQueueArn = this.failedRuns.queueArn;
    // A failed run is not worth a retry: the next scheduled run takes over what is still due.
    recheck.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(config.scheduleRateMinutes),
      onFailure: { bind: () => ({ destination: failedRunsQueueArn }) },
    });

    // Our own role: the L2 Lambda target grants the function ARN and "<arn>:*" (every version).
    this.role = new Role(this, 'Role', {
      description: `EventBridge Scheduler: invokes the ${config.stage} recheck function`,
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({
              service: 'scheduler',
              resource: 'schedule-group',
              resourceName: 'default',
            }),
          },
        },
      }),
      inlinePolicies: {
        invoke: new PolicyDocument({
          statements: [
            new PolicyStatement({
              effect: Effect.ALLOW,
              actions: ['lambda:InvokeFunction'],
              resources: [recheck.functionArn],
            }),
            new PolicyStatement({
              effect: Effect.ALLOW,
              actions: ['sqs:SendMessage'],
              resources: [this.deadLetterQueue.queueArn],
            }),
          ],
        }),
      },
    });

    for (let shardGroup = 0; shardGroup < config.recheckParallelRuns; shardGroup++) {
      this.schedules.push(
        new Schedule(this, `ShardGroup${shardGroup}`, {
          scheduleName: recheckScheduleName(config.stage, shardGroup),
          description: `Rechecks the due links of shard group ${shardGroup} of ${config.recheckParallelRuns}`,
          schedule: ScheduleExpression.rate(Duration.minutes(config.scheduleRateMinutes)),
          target: new ExactLambdaTarget(recheck, this.role, this.deadLetterQueue, { shardGroup }),
        }),
      );
    }
    Validations.of(this.role.node.defaultChild!).acknowledge({
      id: 'PCI.DSS.321-IAMNoInlinePolicy',
      reason: INLINE_POLICY_REASON,
    });
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

/** A Lambda target that uses the given role as it is (no grants added) with the retry policy and DLQ. */
export class ExactLambdaTarget implements IScheduleTarget {
  constructor(
    private readonly fn: IFunction,
    private readonly role: Role,
    private readonly deadLetterQueue: Queue,
    private readonly input: Record<string, unknown>,
  ) {}

  bind(_schedule: ISchedule): ScheduleTargetConfig {
    return {
      arn: this.fn.functionArn,
      role: this.role,
      input: ScheduleTargetInput.fromObject(this.input),
      deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      retryPolicy: {
        maximumRetryAttempts: SCHEDULE_RETRY.retryAttempts,
        maximumEventAgeInSeconds: SCHEDULE_RETRY.maxEventAge.toSeconds(),
      },
    };
  }
}
