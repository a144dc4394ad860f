import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { DEFAULTS } from '#shared/config/defaults.ts';
import { discoveryNames } from '#shared/resource-names.ts';
import { acknowledgeEndOfFailurePath, type DeadLetterQueue, secureQueue } from './queues.ts';
import { ExactLambdaTarget } from './recheck-schedule.ts';
import { INLINE_POLICY_REASON, type TrackerFunction } from './tracker-function.ts';

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
    const stack = Stack.of(this);
    const everyMinutes = config.discovery.everyMinutes ?? DEFAULTS.discoveryEveryMinutes;
    const names = discoveryNames(config.stage);

    this.deadLetterQueue = secureQueue(this, 'DeadLetters', config, { queueName: names.scheduleDeadLetters });
    acknowledgeEndOfFailurePath(this.deadLetterQueue, 'the discovery schedule target dead-letter queue');
    this.failedRuns = secureQueue(this, 'FailedRuns', config, { queueName: names.failedRuns });
    acknowledgeEndOfFailurePath(this.failedRuns, "the discovery function's on-failure destination");
    props.discover.allow(['sqs:SendMessage'], [this.failedRuns.queueArn]);
    const failedRunsQueueArn = this.failedRuns.queueArn;
    // Not retried: the next scheduled run resumes from the cursor.
    discover.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(Math.min(everyMinutes, 360)),
      onFailure: { bind: () => ({ destination: failedRunsQueueArn }) },
    });

    this.role = new Role(this, 'Role', {
      description: `EventBridge Scheduler: invokes the ${config.stage} discovery function`,
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
              resources: [discover.functionArn],
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
    this.schedule = new Schedule(this, 'Schedule', {
      scheduleName: names.schedule,
      description: `Lists the merchant's payout links and watches the ones nobody registered, every ${everyMinutes} min`,
      schedule: ScheduleExpression.rate(Duration.minutes(everyMinutes)),
      target: new ExactLambdaTarget(discover, this.role, this.deadLetterQueue, {}),
    });
    Validations.of(this.role.node.defaultChild!).acknowledge({
      id: 'PCI.DSS.321-IAMNoInlinePolicy',
      reason: INLINE_POLICY_REASON,
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
