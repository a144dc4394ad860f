import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
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
import { createTableInput } from '#shared/store/table-definition.ts';

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
