import { Duration, Names, Stack, Validations } from 'aws-cdk-lib';
import {
  type CfnRule,
  type IEventBus,
  type IRule,
  type IRuleTarget,
  Rule,
  type RuleTargetConfig,
} from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { functionEnvironment } from '#infra/config/function-environment.ts';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { EVENT_SOURCE } from '#shared/link/link-event.ts';
import { FUNCTION_NAMES, webhookResourceNames } from '#shared/resource-names.ts';
import { type DeliveryTarget, deliveryTarget } from '#shared/webhooks/delivery-config.ts';
import { subscriberRulePattern, WEBHOOK_QUEUE } from '#shared/webhooks/routing.ts';
import type { Subscriber } from '#shared/webhooks/subscriber.ts';
import { subscriberStateKey } from '#shared/webhooks/subscriber-state.ts';
import type { DeliveryTable } from './delivery-table.ts';
import { type LinkTable, TABLE_ACCESS } from './link-table.ts';
import { acknowledgeEndOfFailurePath, type DeadLetterQueue, secureQueue } from './queues.ts';
import type { StageKey } from './stage-key.ts';
import { TrackerFunction } from './tracker-function.ts';
import type { TrackerSecrets } from './tracker-secrets.ts';

/**
 * Every EventBridge rule target gets this retry policy explicitly (the longest EventBridge allows)
 * and a dead-letter queue of its own, so no event is dropped silently between the bus and a queue.
 */
const RULE_TARGET_RETRY = { maxEventAge: Duration.hours(24), retryAttempts: 185 } as const;

export interface SubscriberResources {
  readonly name: string;
  readonly rule: Rule;
  /** The deliveries waiting for the delivery function. */
  readonly queue: Queue;
  /** Deliveries that failed for 24 hours (written by the function) or were received too often. */
  readonly deadLetterQueue: Queue;
  /** Events EventBridge could not put on the queue within its retry policy. */
  readonly ruleDeadLetterQueue: Queue;
}

export interface WebhookSubscribersProps {
  readonly config: StageConfig;
  readonly bus: IEventBus;
  readonly table: LinkTable;
  /** The attempt log: one write per attempt. */
  readonly deliveries: DeliveryTable;
  readonly secrets: TrackerSecrets;
  readonly stageKey: StageKey;
}

/**
 * Webhook fan-out, from the definitions in `shared/webhooks/routing.ts`: per subscriber a rule on
 * the bus filtered on its interests, an SQS queue with a DLQ, and the `deliver-webhooks` function
 * reading every subscriber queue.
 */
export class WebhookSubscribers extends Construct {
  readonly deliver: TrackerFunction;
  readonly subscribers: SubscriberResources[] = [];
  readonly deadLetterQueues: DeadLetterQueue[] = [];
  /** `WEBHOOK_SUBSCRIBERS`: each subscriber with its queues, for the deliverer and the API. */
  readonly targetsJson: string;

  constructor(scope: Construct, id: string, props: WebhookSubscribersProps) {
    super(scope, id);
    const { config } = props;

    // Filled per subscriber below; the JSON is written when the template is.
    const targets: DeliveryTarget[] = [];
    this.targetsJson = Stack.of(this).toJsonString(targets);
    this.deliver = new TrackerFunction(this, 'DeliverWebhooks', {
      name: FUNCTION_NAMES.deliverWebhooks,
      entry: 'functions/deliver-webhooks/handler.ts',
      config,
      stageKey: props.stageKey,
      noDeadLetterQueueReason:
        "Invoked synchronously by its SQS event sources only: a failed message returns to the subscriber's queue and, past the redrive policy, lands in the subscriber's DLQ (alarmed on).",
      description: 'Delivers payout link events to webhook subscribers, signed (Standard Webhooks)',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: functionEnvironment(FUNCTION_NAMES.deliverWebhooks, config, {
        tableName: props.table.table.tableName,
        deliveriesTableName: props.deliveries.table.tableName,
        webhookSubscribers: this.targetsJson,
      }),
    }).grantTable(props.table, {
      ...TABLE_ACCESS.deliverWebhooks,
      leadingKeys: config.subscribers.map((subscriber) => subscriberStateKey(subscriber.name).pk),
    });
    props.deliveries.grantRecord(this.deliver);

    for (const subscriber of config.subscribers) {
      const resources = this.route(subscriber, config, props.bus);
      this.deliverFrom(resources, config, props.secrets);
      targets.push(
        deliveryTarget(subscriber, {
          queue: { url: resources.queue.queueUrl, arn: resources.queue.queueArn },
          deadLetterQueue: {
            url: resources.deadLetterQueue.queueUrl,
            arn: resources.deadLetterQueue.queueArn,
          },
        }),
      );
      this.subscribers.push(resources);
      this.deadLetterQueues.push(
        { label: `webhook ${subscriber.name} deliveries`, queue: resources.deadLetterQueue },
        { label: `webhook ${subscriber.name} rule target`, queue: resources.ruleDeadLetterQueue },
      );
    }
  }

  /**
   * What the API needs to resend and enable: put events on each subscriber's queue, count its dead
   * letters and move them back (an SQS move task reads, deletes and counts them on the source).
   */
  grantAdmin(fn: TrackerFunction): void {
    for (const { queue, deadLetterQueue } of this.subscribers) {
      fn.allow(['sqs:SendMessage'], [queue.queueArn]).allow(
        [
          'sqs:GetQueueAttributes',
          'sqs:StartMessageMoveTask',
          'sqs:ListMessageMoveTasks',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
        ],
        [deadLetterQueue.queueArn],
      );
    }
  }

  /** The subscriber's rule on the bus, filtered on its interests, to its queue; each with a DLQ. */
  private route(subscriber: Subscriber, config: StageConfig, bus: IEventBus): SubscriberResources {
    const names = webhookResourceNames(config.stage, subscriber.name);
    const deadLetterQueue = secureQueue(this, `${subscriber.name}-DeadLetters`, config, {
      queueName: names.deadLetterQueue,
    });
    const queue = secureQueue(this, `${subscriber.name}-Deliveries`, config, {
      queueName: names.queue,
      visibilityTimeout: Duration.seconds(WEBHOOK_QUEUE.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(WEBHOOK_QUEUE.retentionSeconds),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: WEBHOOK_QUEUE.maxReceiveCount },
    });
    const ruleDeadLetterQueue = secureQueue(this, `${subscriber.name}-RuleDeadLetters`, config, {
      queueName: names.ruleDeadLetterQueue,
    });

    const rule = new Rule(this, `${subscriber.name}-Rule`, {
      ruleName: names.rule,
      description: `Payout link events for webhook subscriber ${subscriber.name}`,
      eventBus: bus,
      // Replaced below by the shared pattern, written exactly as the local cloud uses it.
      eventPattern: { source: [EVENT_SOURCE] },
      targets: [new ExactQueueTarget(queue, ruleDeadLetterQueue)],
    });
    (rule.node.defaultChild as CfnRule).addPropertyOverride(
      'EventPattern',
      subscriberRulePattern(subscriber),
    );

    acknowledgeEndOfFailurePath(deadLetterQueue, `the dead-letter queue of ${subscriber.name}'s deliveries`);
    acknowledgeEndOfFailurePath(
      ruleDeadLetterQueue,
      `the dead-letter queue of ${subscriber.name}'s rule target`,
    );
    return { name: subscriber.name, rule, queue, deadLetterQueue, ruleDeadLetterQueue };
  }

  /** `deliver-webhooks` on the subscriber's queue, with what it needs of the queues and the secret. */
  private deliverFrom(resources: SubscriberResources, config: StageConfig, secrets: TrackerSecrets): void {
    const { queue, deadLetterQueue } = resources;
    // SqsEventSource's own id, kept: Lambda refuses a second mapping of a queue to a function, so a new id fails the deploy.
    const mapping = this.deliver.fn.addEventSourceMapping(
      `SqsEventSource:${Names.nodeUniqueId(queue.node)}`,
      {
        eventSourceArn: queue.queueArn,
        batchSize: WEBHOOK_QUEUE.batchSize,
        maxBatchingWindow: Duration.seconds(WEBHOOK_QUEUE.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
        // MaximumConcurrency, not reserved concurrency: it takes nothing from the account pool, and a capped poller leaves messages queued instead of throttling them.
        maxConcurrency: config.webhookMaxConcurrency,
      },
    );
    Validations.of(mapping.node.defaultChild!).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        "Lambda has no on-failure destination for an SQS event source (only for Kinesis, DynamoDB Streams and Kafka): the queue's redrive policy is its failure path, to the subscriber's dead-letter queue, where the function also moves deliveries that failed for 24 hours.",
    });
    // The mapping polls (Receive, Delete, GetQueueAttributes); backoff is the function's: it sets each
    // failed delivery's visibility and moves expired ones to the DLQ.
    this.deliver
      .allow(
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
        [queue.queueArn],
      )
      .allow(['sqs:SendMessage'], [deadLetterQueue.queueArn])
      .grantSecretRead(secrets.webhookSecret(resources.name));
  }
}

/**
 * An SQS rule target with the retry policy and DLQ, whose queue policies let this rule send, nothing
 * more (CDK's SqsQueue target also grants GetQueueAttributes and GetQueueUrl, which EventBridge never calls).
 */
class ExactQueueTarget implements IRuleTarget {
  constructor(
    private readonly queue: Queue,
    private readonly deadLetterQueue: Queue,
  ) {}

  bind(rule: IRule): RuleTargetConfig {
    for (const queue of [this.queue, this.deadLetterQueue]) {
      queue.addToResourcePolicy(
        new PolicyStatement({
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
        }),
      );
    }
    return {
      arn: this.queue.queueArn,
      deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      retryPolicy: {
        maximumEventAgeInSeconds: RULE_TARGET_RETRY.maxEventAge.toSeconds(),
        maximumRetryAttempts: RULE_TARGET_RETRY.retryAttempts,
      },
    };
  }
}
