import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStageConfig, STAGES } from '#infra/config/stage-config.ts';
import {
  createBus,
  createSubscriberRouting,
  createTable,
  type LocalClients,
  localClients,
  putSecret,
} from '#infra/local/aws-resources.ts';
import { httpApiEvent } from '#infra/local/http-api-event.ts';
import { pollOnce } from '#infra/local/sqs-event-source.ts';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { SAMPLE_CREDENTIALS, type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import { LinkQueries } from '#shared/store/link-queries.ts';
import { LinkStore } from '#shared/store/link-store.ts';
import { generateWebhookSecret } from '#shared/webhooks/webhook-secret.ts';
import {
  type CfnTemplate,
  type Invocation,
  invokeOnNode24,
  logLines,
  type PhysicalValue,
  requireNode24,
  resolvedEnvironment,
  type SynthesizedFunction,
  synthesizedFunction,
  synthesizeStage,
} from '#test/support/lambda-bundles.ts';

// The three functions as deployed: the bundles `cdk synth` writes, on Node 24 (nodejs24.x), each in
// a fresh process with only the environment the template gives it, against the emulator and the
// sandbox. The `local` stage is synthesized because only it may deliver to a loopback receiver; its
// bundles come from the same construct and esbuild options as every stage's (nothing stage-specific).
const STAGE = 'local';
const SUBSCRIBER = 'runtime-receiver';
const MINUTE = 60_000;

const outdir = mkdtempSync(join(tmpdir(), 'payout-link-tracker-node24-'));
const webhookSecret = generateWebhookSecret();
const received: Array<{ verified: boolean; payload?: { type: string; data: Record<string, unknown> } }> = [];
let receiver: Server;
let sandbox: Sandbox;
let sandboxClock: ManualClock;
let clients: LocalClients;
let template: CfnTemplate;
let physical: PhysicalValue;
let subscriberQueue: { url: string; arn: string };
let tableName: string;
const functions: Record<'trackLink' | 'recheck' | 'deliver', SynthesizedFunction> = {} as never;

function invoke(fn: SynthesizedFunction, event: unknown): Promise<Invocation> {
  return invokeOnNode24(fn, resolvedEnvironment(fn, physical), event);
}

/** The outcome, or a failure that shows what the function logged. */
function succeeded(invocation: Invocation): unknown {
  expect(invocation.nodeVersion).toMatch(/^v24\./);
  if (!invocation.ok) {
    throw new Error(
      `the handler threw ${invocation.error?.name}: ${invocation.error?.message}\n${invocation.error?.stack}\n${invocation.stderr}\n${invocation.stdout}`,
    );
  }
  expect(logLines(invocation.stdout).filter((line) => line.level === 'ERROR')).toEqual([]);
  return invocation.result;
}

beforeAll(async () => {
  requireNode24();

  const sink = new Webhook(webhookSecret);
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      try {
        const payload = sink.verify(body, request.headers as Record<string, string>) as {
          type: string;
          data: Record<string, unknown>;
        };
        received.push({ verified: true, payload });
        response.writeHead(204).end();
      } catch {
        received.push({ verified: false });
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  // A minute in the past, so moving the sandbox to the link's next status lands on the present.
  sandboxClock = new ManualClock(Date.now() - MINUTE);
  sandbox = await startSandbox({ clock: sandboxClock });

  const config = parseStageConfig({
    ...STAGES[STAGE],
    subscribers: [
      {
        name: SUBSCRIBER,
        url: receiverUrl,
        secretName: `payout-link-tracker/${STAGE}/webhooks/${SUBSCRIBER}`,
      },
    ],
  });
  template = synthesizeStage(config, outdir);
  functions.trackLink = synthesizedFunction(template, outdir, `payout-link-tracker-${STAGE}-track-link`);
  functions.recheck = synthesizedFunction(template, outdir, `payout-link-tracker-${STAGE}-recheck-pending`);
  functions.deliver = synthesizedFunction(template, outdir, `payout-link-tracker-${STAGE}-deliver-webhooks`);

  // The resources, from the definitions the local cloud uses; the template names what it refers to.
  clients = localClients();
  tableName = `payout-link-tracker-node24-${Date.now()}`;
  await createTable(clients, tableName);
  const bus = resourceOfType('AWS::Events::EventBus');
  const busName = String(bus.Properties.Name);
  await createBus(clients, busName).catch((error: Error) => {
    if (error.name !== 'ResourceAlreadyExistsException') throw error;
  });
  const routing = await createSubscriberRouting(clients, {
    stage: STAGE,
    busName,
    subscriber: config.subscribers[0]!,
  });
  subscriberQueue = routing.queue;
  await putSecret(clients, config.instantPaySecretName, {
    clientId: SAMPLE_CREDENTIALS.clientId,
    clientSecret: SAMPLE_CREDENTIALS.clientSecret,
    endpointIp: '127.0.0.1',
    baseUrl: sandbox.url,
  });
  await putSecret(clients, config.subscribers[0]!.secretName, { current: webhookSecret });

  const queues = [routing.queue, routing.deadLetterQueue];
  physical = (logicalId, attribute) => {
    const resource = template.Resources[logicalId];
    const type = resource?.Type;
    if (type === 'AWS::DynamoDB::Table' && attribute === undefined) return tableName;
    if (type === 'AWS::Events::EventBus' && attribute === undefined) return busName;
    if (type === 'AWS::SQS::Queue') {
      const queue = queues.find((q) => q.url.endsWith(`/${resource!.Properties.QueueName}`));
      if (!queue)
        throw new Error(`queue ${resource!.Properties.QueueName} is not one the local resources create`);
      if (attribute === undefined) return queue.url;
      if (attribute === 'Arn') return queue.arn;
    }
    throw new Error(
      `${logicalId} (${type ?? 'not in the template'}) ${attribute ?? 'Ref'} is not on the emulator`,
    );
  };
}, 240_000);

afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  await sandbox?.close();
  rmSync(outdir, { recursive: true, force: true });
});

function resourceOfType(type: string) {
  const matches = Object.values(template.Resources).filter((resource) => resource.Type === type);
  expect(matches, type).toHaveLength(1);
  return matches[0]!;
}

describe('the synthesized function bundles on Node 24 (the Lambda runtime)', () => {
  const linkId = 'node24-runtime-link';

  it('are deployed on nodejs24.x, with an environment that refers only to resources on the emulator', () => {
    for (const fn of Object.values(functions)) {
      expect(fn.runtime, fn.functionName).toBe('nodejs24.x');
      // A reference to anything else fails here, naming the function and the variable.
      expect(resolvedEnvironment(fn, physical), fn.functionName).toMatchObject({ STAGE });
    }
  });

  it('track-link answers an API Gateway v2 request: registers a link, records and publishes its first status', async () => {
    sandbox.createLink({
      linkId,
      amount: 250,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: MINUTE, status: 'PROCESSING' },
      ],
    });
    const invocation = await invoke(
      functions.trackLink,
      httpApiEvent({
        method: 'POST',
        rawPath: '/links',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ linkId, reference: 'NODE24-1' }),
      }),
    );
    const response = succeeded(invocation) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(201);
    expect(JSON.parse(response.body ?? '{}')).toMatchObject({
      linkId,
      status: 'ISSUED',
      reference: 'NODE24-1',
    });
    const changes = await new LinkQueries({ tableName }).listChanges(linkId);
    expect(
      changes.map((change) => [change.detail.sequence, change.detail.status, change.publishedAt !== null]),
    ).toEqual([[1, 'ISSUED', true]]);
  });

  it("recheck-pending runs one sweep from the schedule's own event and records the change it finds", async () => {
    // A minute later: the link is due, and InstantPay says PROCESSING.
    const store = new LinkStore({ tableName });
    const link = (await store.getLink(linkId))!;
    const saved = await store.saveState(link.version, {
      ...link,
      version: link.version + 1,
      nextCheckAt: Date.now() - 1_000,
    });
    expect(saved.ok).toBe(true);
    sandboxClock.advance(MINUTE);

    const schedule = resourceOfType('AWS::Scheduler::Schedule');
    const target = schedule.Properties.Target as { Input: string };
    const invocation = await invoke(functions.recheck, JSON.parse(target.Input));
    succeeded(invocation);
    const summary = logLines(invocation.stdout).find((line) => line.message === 'recheck run finished');
    expect(summary).toMatchObject({ linksChecked: 1, transitionsRecorded: 1, otherErrors: 0 });
    expect(await store.getLink(linkId)).toMatchObject({ status: 'PROCESSING' });
    const changes = await new LinkQueries({ tableName }).listChanges(linkId);
    expect(
      changes.map((change) => [change.detail.sequence, change.detail.status, change.publishedAt !== null]),
    ).toEqual([
      [1, 'ISSUED', true],
      [2, 'PROCESSING', true],
    ]);
  });

  it('deliver-webhooks posts the queued events to the subscriber, signed with its secret', async () => {
    const mapping = resourceOfType('AWS::Lambda::EventSourceMapping');
    expect(mapping.Properties.FunctionName).toEqual({ Ref: functions.deliver.logicalId });
    expect(resolveArn(mapping.Properties.EventSourceArn)).toBe(subscriberQueue.arn);

    const outcomes: SQSBatchResponse[] = [];
    for (let polls = 0; received.length < 2 && polls < 20; polls++) {
      await pollOnce(
        clients.sqs,
        subscriberQueue,
        async (event) => {
          const response = succeeded(await invoke(functions.deliver, event)) as SQSBatchResponse;
          outcomes.push(response);
          return response;
        },
        { batchSize: Number(mapping.Properties.BatchSize) },
      );
    }
    expect(outcomes.flatMap((outcome) => outcome.batchItemFailures)).toEqual([]);
    expect(received.every((delivery) => delivery.verified)).toBe(true);
    const payloads = received
      .map((delivery) => delivery.payload!)
      .sort((a, b) => Number(a.data.sequence) - Number(b.data.sequence));
    expect(payloads.map((payload) => [payload.type, payload.data.linkId, payload.data.sequence])).toEqual([
      ['payout_link.issued', linkId, 1],
      ['payout_link.processing', linkId, 2],
    ]);
  });
});

function resolveArn(value: unknown): string {
  const [logicalId, attribute] = (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
  return physical(logicalId, attribute);
}
