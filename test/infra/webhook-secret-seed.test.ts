import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { putResponse, seedWebhookSecret } from '#infra/constructs/webhook-secret-seed/handler.ts';
import { generateWebhookSecret, WebhookSecretSchema } from '#shared/webhooks/webhook-secret.ts';

const SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payout-link-tracker/prod/webhooks/x-AbCdEf';

let server: Server;
let baseUrl: string;
const received: { method?: string; contentType?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ method: req.method, contentType: req.headers['content-type'], body });
      res.statusCode = req.url === '/refuse' ? 403 : 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const secrets = mockClient(SecretsManagerClient);
beforeEach(() => {
  secrets.reset();
  received.length = 0;
});

function event(requestType: 'Create' | 'Update' | 'Delete', path = '/ok'): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:seed',
    ResponseURL: `${baseUrl}${path}`,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/PayoutLinkTracker-prod/1',
    RequestId: 'request-1',
    LogicalResourceId: 'SecretsSeedmerchant',
    ResourceType: 'Custom::WebhookSecretSeed',
    ResourceProperties: { ServiceToken: 'x', SecretId: SECRET_ARN },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Update')
    return {
      ...common,
      RequestType: 'Update',
      PhysicalResourceId: 'seed-1',
      OldResourceProperties: { ServiceToken: 'x' },
    };
  return { ...common, RequestType: 'Delete', PhysicalResourceId: 'seed-1' };
}

const deps = () => ({
  client: new SecretsManagerClient({ region: 'eu-west-1' }),
  respond: putResponse,
  generate: generateWebhookSecret,
});

describe('the webhook secret seed custom resource', () => {
  it('replaces the placeholder with a fresh whsec_ secret and reports success to CloudFormation', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"placeholder":true}' });
    secrets.on(PutSecretValueCommand).resolves({});

    const response = await seedWebhookSecret(event('Create'), deps());

    const put = secrets.commandCalls(PutSecretValueCommand)[0]?.args[0].input;
    expect(put?.SecretId).toBe(SECRET_ARN);
    const value = WebhookSecretSchema.parse(JSON.parse(put?.SecretString ?? ''));
    expect(Buffer.from(value.current.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(response.Status).toBe('SUCCESS');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'PUT', contentType: '' });
    const sent = JSON.parse(received[0]!.body);
    expect(sent).toMatchObject({
      Status: 'SUCCESS',
      RequestId: 'request-1',
      LogicalResourceId: 'SecretsSeedmerchant',
      PhysicalResourceId: 'webhook-secret-seed-SecretsSeedmerchant',
    });
    expect(received[0]!.body).not.toContain(value.current);
  });

  it('never overwrites a secret that already holds a value (a rotation, a retained secret)', async () => {
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ current: generateWebhookSecret() }) });

    const response = await seedWebhookSecret(event('Update'), deps());

    expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'seed-1' });
  });

  it('does nothing on delete (the secret goes with its own resource)', async () => {
    const response = await seedWebhookSecret(event('Delete'), deps());
    expect(secrets.calls()).toHaveLength(0);
    expect(response.Status).toBe('SUCCESS');
  });

  it('reports a failure to CloudFormation with the reason, never a secret', async () => {
    secrets.on(GetSecretValueCommand).rejects(new Error('User is not authorized to perform GetSecretValue'));

    const response = await seedWebhookSecret(event('Create'), deps());

    expect(response).toMatchObject({
      Status: 'FAILED',
      Reason: 'User is not authorized to perform GetSecretValue',
    });
    expect(JSON.parse(received[0]!.body).Status).toBe('FAILED');
  });

  it('fails loudly when CloudFormation refuses the response', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"current":"x"}' });
    await expect(seedWebhookSecret(event('Create', '/refuse'), deps())).rejects.toThrow(/403/);
  });
});
