import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type ISchedule,
  type IScheduleTarget,
  type ScheduleTargetConfig,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { acknowledgeEndOfFailurePath, secureQueue } from './queues.ts';
import { INLINE_POLICY_REASON, type TrackerFunction } from './tracker-function.ts';

/**
 * A run that could not be started is retried briefly and then left to the next one: the backlog
 * carries over, nothing is lost. The failed invocation lands in the DLQ.
 */
export const SCHEDULE_RETRY = { retryAttempts: 2, maxEventAge: Duration.minutes(1) } as const;

export interface ScheduledInvocationProps {
  readonly config: StageConfig;
  readonly function: TrackerFunction;
  readonly queueNames: { readonly scheduleDeadLetters: string; readonly failedRuns: string };
  /** Which schedule, in the role's description and the queues' acknowledgements (`recheck`, `discovery`). */
  readonly label: string;
  /** How long an invocation that could not run yet is still worth running. */
  readonly maxEventAge: Duration;
}

export interface ScheduledInvocation {
  /** Where the scheduler puts an invocation it could not deliver. */
  readonly deadLetterQueue: Queue;
  /** The function's on-failure destination: records of asynchronous invocations that failed. */
  readonly failedRuns: Queue;
  /** The scheduler's role: invoke that function and write that DLQ, nothing else. */
  readonly role: Role;
}

/**
 * What a scheduled house function needs around its schedules, built in `scope`: the schedule
 * target's DLQ, the function's on-failure queue (a failed run is not retried: the next scheduled
 * run takes over) and the scheduler's role.
 */
export function scheduledInvocation(scope: Construct, props: ScheduledInvocationProps): ScheduledInvocation {
  const { config, label } = props;
  const fn = props.function.fn;
  const stack = Stack.of(scope);

  const deadLetterQueue = secureQueue(scope, 'DeadLetters', config, {
    queueName: props.queueNames.scheduleDeadLetters,
  });
  acknowledgeEndOfFailurePath(deadLetterQueue, `the ${label} schedule target dead-letter queue`);
  const failedRuns = secureQueue(scope, 'FailedRuns', config, { queueName: props.queueNames.failedRuns });
  acknowledgeEndOfFailurePath(failedRuns, `the ${label} function's on-failure destination`);
  // Lambda writes the record with the function's role: SendMessage, not CDK's SqsDestination's three actions.
  props.function.allow(['sqs:SendMessage'], [failedRuns.queueArn]);
  const failedRunsQueueArn = failedRuns.queueArn;
  fn.configureAsyncInvoke({
    retryAttempts: 0,
    maxEventAge: props.maxEventAge,
    onFailure: { bind: () => ({ destination: failedRunsQueueArn }) },
  });

  // Our own role: the L2 Lambda target grants the function ARN and "<arn>:*" (every version).
  const role = new Role(scope, 'Role', {
    description: `EventBridge Scheduler: invokes the ${config.stage} ${label} function`,
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
            resources: [fn.functionArn],
          }),
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: ['sqs:SendMessage'],
            resources: [deadLetterQueue.queueArn],
          }),
        ],
      }),
    },
  });
  Validations.of(role.node.defaultChild!).acknowledge({
    id: 'PCI.DSS.321-IAMNoInlinePolicy',
    reason: INLINE_POLICY_REASON,
  });
  return { deadLetterQueue, failedRuns, role };
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
