import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { generateWebhookSecret } from '#shared/webhooks/webhook-secret.ts';

/**
 * The custom resource that gives each subscriber secret its first `whsec_` value. The stack creates
 * the secret with `{"placeholder": true}`; on create (and on an update that points at another
 * secret) this replaces a placeholder, and only a placeholder, with `{"current": "whsec_..."}`. The
 * value is made here and written straight to Secrets Manager: it never appears in the template, in
 * CloudFormation or in a log. Rotation stays with `npm run webhook-secret -- --rotate`.
 */
export interface SeedDependencies {
  client: Pick<SecretsManagerClient, 'send'>;
  respond(url: string, body: CloudFormationCustomResourceResponse): Promise<void>;
  generate(): string;
}

export async function seedWebhookSecret(
  event: CloudFormationCustomResourceEvent,
  deps: SeedDependencies,
): Promise<CloudFormationCustomResourceResponse> {
  const physicalResourceId =
    event.RequestType === 'Create'
      ? `webhook-secret-seed-${event.LogicalResourceId}`
      : event.PhysicalResourceId;
  let response: CloudFormationCustomResourceResponse = {
    Status: 'SUCCESS',
    PhysicalResourceId: physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  if (event.RequestType !== 'Delete') {
    try {
      const secretId = String(event.ResourceProperties.SecretId ?? '');
      if (!secretId) throw new Error('The SecretId property is missing.');
      await seedIfPlaceholder(secretId, deps);
    } catch (error) {
      // Never the secret: only what failed.
      response = { ...response, Status: 'FAILED', Reason: (error as Error).message || 'seeding failed' };
    }
  }
  await deps.respond(event.ResponseURL, response);
  return response;
}

async function seedIfPlaceholder(secretId: string, deps: SeedDependencies): Promise<void> {
  const current = await deps.client.send(new GetSecretValueCommand({ SecretId: secretId }));
  let placeholder = false;
  try {
    placeholder =
      (JSON.parse(current.SecretString ?? 'null') as { placeholder?: unknown })?.placeholder === true;
  } catch {
    placeholder = false;
  }
  if (!placeholder) return;
  await deps.client.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      SecretString: JSON.stringify({ current: deps.generate() }),
    }),
  );
}

/** PUTs the response to CloudFormation's pre-signed URL (an empty content type, as it is signed). */
export function putResponse(url: string, body: CloudFormationCustomResourceResponse): Promise<void> {
  const data = JSON.stringify(body);
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(data) } },
      (res) => {
        res.resume();
        res.on('end', () =>
          (res.statusCode ?? 0) < 300
            ? resolve()
            : reject(new Error(`CloudFormation answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const client = new SecretsManagerClient({});

export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  const response = await seedWebhookSecret(event, {
    client,
    respond: putResponse,
    generate: generateWebhookSecret,
  });
  console.log(
    JSON.stringify({
      message: 'webhook secret seed',
      requestType: event.RequestType,
      status: response.Status,
      reason: response.Reason,
    }),
  );
}
