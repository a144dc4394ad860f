import { randomUUID } from 'node:crypto';
import { CreateArchiveCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  createBus,
  createQueue,
  createRuleToQueue,
  createSubscriberRouting,
  createTable,
  localClients,
  putSecret,
} from '#infra/local/aws-resources.ts';
import { redriveDeadLetters } from '#infra/ops/redrive.ts';
import { replayArchive } from '#infra/ops/replay.ts';
import { rotateWebhookSecret } from '#infra/ops/webhook-secret-rotation.ts';
import { busName } from '#shared/resource-names.ts';
import { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { activeSecrets, WebhookSecretSchema } from '#shared/webhooks/webhook-secret.ts';

const clients = localClients();

describe('operator commands on the emulator', () => {
  it('redrive moves every dead-lettered delivery back to the subscriber queue, with progress', async () => {
    const stage = `t${randomUUID().slice(0, 6)}`;
    await createBus(clients, busName(stage));
    const routing = await createSubscriberRouting(clients, {
      stage,
      busName: busName(stage),
      subscriber: { name: 'ledger' },
    });
    for (let i = 0; i < 13; i++) {
      await clients.sqs.send(
        new SendMessageCommand({ QueueUrl: routing.deadLetterQueue.url, MessageBody: JSON.stringify({ i }) }),
      );
    }
    const table = `links-${stage}`;
    await createTable(clients, table);
    const state = new SubscriberStateStore(table, { cacheMs: 0 });
    await state.set('ledger', {
      disabled: true,
      disabledAt: '2026-11-25T10:00:00.000Z',
      reason: 'HTTP 410 Gone',
    });
    const progress: number[] = [];
    const result = await redriveDeadLetters(clients.sqs, {
      stage,
      subscriber: 'ledger',
      subscriberState: state,
      onProgress: (moved) => progress.push(moved),
    });
    expect(result.moved).toBe(13);
    expect(result.previousState).toEqual({
      disabled: true,
      disabledAt: '2026-11-25T10:00:00.000Z',
      reason: 'HTTP 410 Gone',
    });
    await expect(state.get('ledger')).resolves.toEqual({ disabled: false });
    expect(progress.at(-1)).toBe(13);
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: routing.queue.url,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessages)).toBe(13);
  });

  it('webhook-secret --rotate keeps the old secret signing for 24 hours', async () => {
    const secretName = `test/webhooks/${randomUUID()}`;
    await putSecret(clients, secretName, { placeholder: true });
    const first = await rotateWebhookSecret(clients.secrets, secretName);
    expect(first.current).toMatch(/^whsec_/);
    const now = Date.now();
    const second = await rotateWebhookSecret(clients.secrets, secretName, now);
    const { SecretString } = await clients.secrets.send(new GetSecretValueCommand({ SecretId: secretName }));
    const stored = WebhookSecretSchema.parse(JSON.parse(SecretString ?? ''));
    expect(stored).toMatchObject({ current: second.current, previous: first.current });
    expect(activeSecrets(stored, now + 23 * 3600_000)).toEqual([second.current, first.current]);
    expect(activeSecrets(stored, now + 25 * 3600_000)).toEqual([second.current]);
  });

  it('replay sends the archived window of the bus to its rules again', async () => {
    const stage = `r${randomUUID().slice(0, 6)}`;
    const arn = await createBus(clients, busName(stage));
    await clients.eventbridge.send(
      new CreateArchiveCommand({ ArchiveName: `${stage}-archive`, EventSourceArn: arn }),
    );
    const queue = await createQueue(clients, `replayed-${stage}`);
    await createRuleToQueue(clients, {
      busName: busName(stage),
      ruleName: `all-${stage}`,
      pattern: { source: ['payout-link-tracker'] },
      queueArn: queue.arn,
    });
    const from = new Date(Date.now() - 60_000);
    await clients.eventbridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: busName(stage),
            Source: 'payout-link-tracker',
            DetailType: 'Payout Link Status Changed',
            Detail: '{"eventId":"e1"}',
          },
        ],
      }),
    );
    const result = await replayArchive(clients.eventbridge, {
      stage,
      from,
      to: new Date(Date.now() + 60_000),
      pollMs: 100,
    });
    expect(result.state).toBe('COMPLETED');
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    // The original delivery and the replayed one.
    expect(Number(Attributes?.ApproximateNumberOfMessages)).toBe(2);
  });

  it("replay --subscriber sends the window to that subscriber's rule alone (FilterArns); an unknown one is named", async () => {
    const stage = `s${randomUUID().slice(0, 6)}`;
    const arn = await createBus(clients, busName(stage));
    await clients.eventbridge.send(
      new CreateArchiveCommand({ ArchiveName: `${stage}-archive`, EventSourceArn: arn }),
    );
    const routing = async (name: string) =>
      createSubscriberRouting(clients, { stage, busName: busName(stage), subscriber: { name } });
    const chosen = await routing('chosen');
    const other = await routing('other');
    const from = new Date(Date.now() - 60_000);
    await clients.eventbridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: busName(stage),
            Source: 'payout-link-tracker',
            DetailType: 'Payout Link Status Changed',
            Detail: '{"eventId":"e1","linkId":"l1","status":"CLAIMED"}',
          },
        ],
      }),
    );
    const depth = async (url: string) =>
      Number(
        (
          await clients.sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
          )
        ).Attributes?.ApproximateNumberOfMessages,
      );
    expect([await depth(chosen.queue.url), await depth(other.queue.url)]).toEqual([1, 1]);

    const to = new Date(Date.now() + 60_000);
    const result = await replayArchive(clients.eventbridge, {
      stage,
      from,
      to,
      subscriber: 'chosen',
      pollMs: 100,
    });
    expect(result).toMatchObject({ state: 'COMPLETED', ruleArn: expect.stringContaining('chosen') });
    // The original delivery and the replayed one for the chosen subscriber; nothing more for the other.
    expect([await depth(chosen.queue.url), await depth(other.queue.url)]).toEqual([2, 1]);

    await expect(
      replayArchive(clients.eventbridge, { stage, from, to, subscriber: 'nobody', pollMs: 100 }),
    ).rejects.toThrow(`The stage ${stage} has no webhook subscriber nobody`);
  });
});
