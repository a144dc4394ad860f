import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { webhookResourceNames } from '#shared/resource-names.ts';
import { DELIVERY_TABLE, deliveryTimeToLiveInput } from '#shared/store/delivery-table-definition.ts';
import { createTableInput, tableInput } from '#shared/store/table-definition.ts';
import { subscriberRulePattern, WEBHOOK_QUEUE } from '#shared/webhooks/routing.ts';
import type { Subscriber } from '#shared/webhooks/subscriber.ts';

/**
 * Creates, on the local emulator, the resources the stack defines, from the same definitions the CDK
 * constructs use. Clients default to the environment (`AWS_ENDPOINT_URL` points them at moto).
 */
export interface LocalClients {
  dynamodb: DynamoDBClient;
  eventbridge: EventBridgeClient;
  sqs: SQSClient;
  secrets: SecretsManagerClient;
}

export function localClients(): LocalClients {
  return {
    dynamodb: new DynamoDBClient({}),
    eventbridge: new EventBridgeClient({}),
    sqs: new SQSClient({}),
    secrets: new SecretsManagerClient({}),
  };
}

export async function createTable(clients: LocalClients, tableName: string): Promise<void> {
  await clients.dynamodb.send(new CreateTableCommand(createTableInput(tableName)));
}

/** The webhook attempt log, with its TTL on, as the stack makes it. */
export async function createDeliveriesTable(clients: LocalClients, tableName: string): Promise<void> {
  await clients.dynamodb.send(new CreateTableCommand(tableInput(tableName, DELIVERY_TABLE)));
  await clients.dynamodb.send(new UpdateTimeToLiveCommand(deliveryTimeToLiveInput(tableName)));
}

export async function createBus(clients: LocalClients, name: string): Promise<string> {
  const { EventBusArn } = await clients.eventbridge.send(new CreateEventBusCommand({ Name: name }));
  return EventBusArn ?? name;
}

/** A queue and its ARN. */
export async function createQueue(
  clients: LocalClients,
  name: string,
  attributes: Record<string, string> = {},
): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await clients.sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (!QueueUrl) throw new Error(`The emulator created no queue ${name}.`);
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}

/** A rule on the bus with an event pattern, delivering to an SQS queue. */
export async function createRuleToQueue(
  clients: LocalClients,
  options: { busName: string; ruleName: string; pattern: unknown; queueArn: string },
): Promise<void> {
  await clients.eventbridge.send(
    new PutRuleCommand({
      Name: options.ruleName,
      EventBusName: options.busName,
      EventPattern: JSON.stringify(options.pattern),
      State: 'ENABLED',
    }),
  );
  await clients.eventbridge.send(
    new PutTargetsCommand({
      Rule: options.ruleName,
      EventBusName: options.busName,
      Targets: [{ Id: 'queue', Arn: options.queueArn }],
    }),
  );
}

/** Creates the secret, or sets a new value when it exists. */
export async function putSecret(clients: LocalClients, name: string, value: unknown): Promise<void> {
  const SecretString = JSON.stringify(value);
  try {
    await clients.secrets.send(new CreateSecretCommand({ Name: name, SecretString }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceExistsException') throw error;
    await clients.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
  }
}

/**
 * A webhook subscriber's routing on the emulator, from the same definitions as the CDK constructs:
 * its dead-letter queue, its queue (redriving to the DLQ), and its rule on the bus.
 */
export async function createSubscriberRouting(
  clients: LocalClients,
  options: {
    stage: string;
    busName: string;
    subscriber: Pick<Subscriber, 'name' | 'statuses' | 'detailTypes'>;
  },
): Promise<{ queue: { url: string; arn: string }; deadLetterQueue: { url: string; arn: string } }> {
  const names = webhookResourceNames(options.stage, options.subscriber.name);
  const deadLetterQueue = await createQueue(clients, names.deadLetterQueue, {
    MessageRetentionPeriod: String(WEBHOOK_QUEUE.retentionSeconds),
  });
  const queue = await createQueue(clients, names.queue, {
    VisibilityTimeout: String(WEBHOOK_QUEUE.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(WEBHOOK_QUEUE.retentionSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetterQueue.arn,
      maxReceiveCount: WEBHOOK_QUEUE.maxReceiveCount,
    }),
  });
  await createRuleToQueue(clients, {
    busName: options.busName,
    ruleName: names.rule,
    pattern: subscriberRulePattern(options.subscriber),
    queueArn: queue.arn,
  });
  return { queue, deadLetterQueue };
}
