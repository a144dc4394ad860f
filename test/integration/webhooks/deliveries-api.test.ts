import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '#infra/cli/command.ts';
import { runCli } from '#infra/cli/main.ts';
import { eventIdFor } from '#shared/link/link-event.ts';
import { deliveriesWorld } from '#test/support/deliveries-world.ts';
import { promised } from '#test/support/openapi-contract.ts';
import { type ScriptedReceiver, scriptedReceiver } from '#test/support/scripted-receiver.ts';
import { serveApi } from '../cli/api-server.ts';

// The four delivery routes of the real API (createApi with the real core), on the emulator, with
// deliver-webhooks delivering over loopback HTTP to scripted receivers; every answer is checked
// against the published OpenAPI document.
let world: Awaited<ReturnType<typeof deliveriesWorld>>;
/** Fails each event twice (500), then accepts it. */
let flaky: ScriptedReceiver;
/** Answers 410 while `gone`, else 204; receives PROCESSING and CLAIMED only, so no other test's link reaches it. */
let leaving: ScriptedReceiver;
let gone = true;
/** Always 503. */
let down: ScriptedReceiver;
/** Only CLAIMED events, accepted. */
let claimsOnly: ScriptedReceiver;

beforeAll(async () => {
  flaky = await scriptedReceiver((delivery) => (delivery.seen <= 2 ? 500 : 204));
  leaving = await scriptedReceiver(() => (gone ? 410 : 204));
  down = await scriptedReceiver(() => 503);
  claimsOnly = await scriptedReceiver();
  world = await deliveriesWorld([
    { name: 'flaky', receiver: flaky, url: `${flaky.url}?token=s3cr3t` },
    { name: 'leaving', receiver: leaving, statuses: ['PROCESSING', 'CLAIMED'] },
    { name: 'down', receiver: down },
    { name: 'claims', receiver: claimsOnly, statuses: ['CLAIMED'] },
  ]);
});
afterAll(async () => {
  await world?.close();
  for (const receiver of [flaky, leaving, down, claimsOnly]) await receiver?.stop();
});

const deliveriesOf = async (linkId: string) => {
  const answer = await world.call('GET', `/links/${linkId}/deliveries`);
  promised('/links/{linkId}/deliveries', 'get', 200, answer);
  return answer.body as {
    linkId: string;
    deliveries: Array<{
      eventId: string;
      subscriber: string;
      state: string;
      sequence: number;
      type: string;
      attempts: Array<Record<string, unknown>>;
    }>;
  };
};
const deliveryTo = async (linkId: string, given: string, sequence = 1) =>
  (await deliveriesOf(linkId)).deliveries.find(
    (delivery) => delivery.subscriber === world.nameOf(given) && delivery.sequence === sequence,
  );
const subscriber = async (given: string) => {
  const answer = await world.call('GET', '/subscribers');
  promised('/subscribers', 'get', 200, answer);
  return (answer.body.subscribers as Array<Record<string, unknown>>).find(
    (view) => view.name === world.nameOf(given),
  )!;
};

/** A link registered now (its first event, ISSUED, on the bus), moving as the timeline says. */
async function registeredLink(timeline: Array<{ afterMs: number; status: string }> = []) {
  const linkId = world.sandbox.createLink({
    amount: 120,
    timeline: [{ afterMs: 0, status: 'ISSUED' }, ...timeline],
  });
  expect((await world.call('POST', '/links', { body: { linkId } })).status).toBe(201);
  return linkId;
}

/** Reads the link (the tracker checks InstantPay) until it shows `status`. */
async function statusOf(linkId: string, status: string) {
  const deadline = Date.now() + 15_000;
  let seen: unknown;
  while (Date.now() < deadline) {
    seen = (await world.call('GET', `/links/${linkId}`)).body.status;
    if (seen === status) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(seen).toBe(status);
}

describe('GET /links/{linkId}/deliveries', () => {
  it('shows a delivery failed twice then delivered: three attempts with their status, the next attempt while retrying, and the state delivered', async () => {
    const linkId = await registeredLink();
    const eventId = eventIdFor(linkId, 1);
    await world.pump(async () => (await deliveryTo(linkId, 'flaky'))?.state === 'delivered');

    const delivery = await deliveryTo(linkId, 'flaky');
    expect(delivery).toMatchObject({
      eventId,
      sequence: 1,
      type: 'payout_link.issued',
      subscriber: world.nameOf('flaky'),
      state: 'delivered',
    });
    expect(delivery!.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        outcome: 'failed',
        httpStatus: 500,
        nextAttemptAt: expect.any(String),
      }),
      expect.objectContaining({
        attempt: 2,
        outcome: 'failed',
        httpStatus: 500,
        nextAttemptAt: expect.any(String),
      }),
      expect.objectContaining({ attempt: 3, outcome: 'delivered', httpStatus: 204 }),
    ]);
    const [first, second, third] = delivery!.attempts as Array<{
      at: string;
      nextAttemptAt?: string;
      latencyMs: number;
    }>;
    expect(Date.parse(first!.nextAttemptAt!)).toBeGreaterThan(Date.parse(first!.at));
    expect(Date.parse(second!.at)).toBeGreaterThan(Date.parse(first!.at));
    expect(third!.nextAttemptAt).toBeUndefined();
    expect(third!.latencyMs).toBeGreaterThanOrEqual(0);
    // The receiver saw exactly those three, each with the same webhook-id.
    expect(flaky.ofId(eventId)).toHaveLength(3);
  });

  it('answers 404 for a link the tracker never tracked and 400 for a malformed link id, as the document says', async () => {
    promised(
      '/links/{linkId}/deliveries',
      'get',
      404,
      await world.call('GET', '/links/never-seen-1/deliveries'),
    );
    const malformed = await world.call('GET', '/links/bad%20id/deliveries');
    promised('/links/{linkId}/deliveries', 'get', 400, malformed);
    const wrongMethod = await world.call('POST', '/links/abc/deliveries', { body: {} });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET');
  });
});

describe('GET /subscribers', () => {
  it('shows each subscriber: its URL without query or credentials, enabled, last delivered and failed attempts, failures since the last delivery, dead letters', async () => {
    const linkId = await registeredLink();
    await world.pump(
      async () =>
        (await deliveryTo(linkId, 'flaky'))?.state === 'delivered' &&
        ((await deliveryTo(linkId, 'down'))?.attempts.length ?? 0) >= 2,
    );
    const failing = await subscriber('down');
    expect(failing).toMatchObject({ enabled: true, deadLetters: 0, lastFailedAt: expect.any(String) });
    expect(failing.consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(failing.lastDeliveredAt).toBeUndefined();

    const recovered = await subscriber('flaky');
    expect(recovered).toMatchObject({ enabled: true, consecutiveFailures: 0, deadLetters: 0 });
    expect(Date.parse(String(recovered.lastDeliveredAt))).toBeGreaterThan(
      Date.parse(String(recovered.lastFailedAt)),
    );
    expect(recovered.url).toBe(flaky.url);
    expect(JSON.stringify(recovered)).not.toContain('s3cr3t');
  });
});

describe('POST /subscribers/{name}/resend', () => {
  it('delivers the event again with its original webhook-id, signed, whatever its state, and adds an attempt to the delivery', async () => {
    const linkId = await registeredLink();
    const eventId = eventIdFor(linkId, 1);
    await world.pump(async () => (await deliveryTo(linkId, 'flaky'))?.state === 'delivered');
    expect(flaky.ofId(eventId)).toHaveLength(3);

    const accepted = await world.call('POST', `/subscribers/${world.nameOf('flaky')}/resend`, {
      body: { eventIds: [eventId] },
    });
    promised('/subscribers/{name}/resend', 'post', 202, accepted);
    expect(accepted.body).toEqual({ queued: 1 });
    await world.pump(async () => ((await deliveryTo(linkId, 'flaky'))?.attempts.length ?? 0) >= 4);

    const again = flaky.ofId(eventId);
    expect(again).toHaveLength(4);
    const verifier = new Webhook(world.secrets.get(world.nameOf('flaky'))!);
    expect(verifier.verify(again[3]!.body, again[3]!.headers)).toMatchObject({ data: { eventId, linkId } });
    const delivery = await deliveryTo(linkId, 'flaky');
    expect(delivery!.state).toBe('delivered');
    expect(delivery!.attempts.map((attempt) => [attempt.attempt, attempt.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'delivered'],
      [4, 'delivered'],
    ]);
  });

  it('refuses, queuing nothing: an unknown subscriber (404), event ids it does not receive, counted and never echoed (404), a malformed body (400)', async () => {
    const linkId = await registeredLink();
    const known = eventIdFor(linkId, 1);
    const name = world.nameOf('claims');
    const depth = async () =>
      Number(
        (
          await world.clients.sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: world.queues.get(name)!.queue.url,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          )
        ).Attributes?.ApproximateNumberOfMessages,
      );

    const nobody = await world.call('POST', '/subscribers/nobody-here/resend', {
      body: { eventIds: [known] },
    });
    promised('/subscribers/{name}/resend', 'post', 404, nobody);
    expect(nobody.body.type).toBe('urn:payout-link-tracker:problem:subscriber-not-found');

    const unknownId = '00000000-0000-5000-8000-000000000000';
    const notFound = await world.call('POST', `/subscribers/${name}/resend`, {
      body: { eventIds: [known, unknownId] },
    });
    promised('/subscribers/{name}/resend', 'post', 404, notFound);
    expect(notFound.body).toMatchObject({
      type: 'urn:payout-link-tracker:problem:events-not-found',
      detail:
        "1 of 2 event ids are recorded by no change of this stage and 1 are events this subscriber's filters leave out. Nothing was queued.",
    });
    expect(JSON.stringify(notFound.body)).not.toContain(unknownId);
    expect(await depth()).toBe(0);

    for (const body of [
      { eventIds: [] },
      { eventIds: Array.from({ length: 101 }, () => known) },
      { eventIds: ['not-an-id'] },
      { eventIds: [known], more: 1 },
    ]) {
      const refused = await world.call('POST', `/subscribers/${name}/resend`, { body });
      promised('/subscribers/{name}/resend', 'post', 400, refused);
    }
    const badName = await world.call('POST', '/subscribers/Bad_Name/resend', { body: { eventIds: [known] } });
    promised('/subscribers/{name}/resend', 'post', 400, badName);
    expect(await depth()).toBe(0);
  });
});

describe('a subscriber answering 410, and POST /subscribers/{name}/enable', () => {
  it('is disabled, its later deliveries kept as disabled without an attempt, a resend refused (409), and enable resumes them all', async () => {
    const linkId = await registeredLink([
      { afterMs: 100, status: 'PROCESSING' },
      { afterMs: 1_500, status: 'CLAIMED' },
    ]);
    const name = world.nameOf('leaving');
    await statusOf(linkId, 'PROCESSING');
    await world.pump(async () => (await deliveryTo(linkId, 'leaving', 2))?.state === 'disabled');
    expect((await deliveryTo(linkId, 'leaving', 2))!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'gone', httpStatus: 410 }),
    ]);
    const disabled = await subscriber('leaving');
    expect(disabled).toMatchObject({
      enabled: false,
      disabledReason: 'HTTP 410 Gone',
      disabledAt: expect.any(String),
      consecutiveFailures: 1,
      deadLetters: 1,
    });

    // A later event of the link: kept in the dead-letter queue, no attempt made.
    await statusOf(linkId, 'CLAIMED');
    await world.pump(async () => (await deliveryTo(linkId, 'leaving', 3))?.state === 'disabled');
    expect((await deliveryTo(linkId, 'leaving', 3))!.attempts).toEqual([]);
    expect(leaving.received).toHaveLength(1);
    expect((await subscriber('leaving')).deadLetters).toBe(2);

    const refused = await world.call('POST', `/subscribers/${name}/resend`, {
      body: { eventIds: [eventIdFor(linkId, 2)] },
    });
    promised('/subscribers/{name}/resend', 'post', 409, refused);
    expect(refused.body.type).toBe('urn:payout-link-tracker:problem:subscriber-disabled');

    gone = false;
    const enabled = await world.call('POST', `/subscribers/${name}/enable`);
    promised('/subscribers/{name}/enable', 'post', 200, enabled);
    expect(enabled.body).toMatchObject({ name, enabled: true, deadLetters: 0 });
    expect(enabled.body.disabledAt).toBeUndefined();
    await world.pump(
      async () =>
        (await deliveryTo(linkId, 'leaving', 2))?.state === 'delivered' &&
        (await deliveryTo(linkId, 'leaving', 3))?.state === 'delivered',
    );
    expect(leaving.received.map((delivery) => delivery.id).sort()).toEqual(
      [eventIdFor(linkId, 2), eventIdFor(linkId, 2), eventIdFor(linkId, 3)].sort(),
    );
    expect(await subscriber('leaving')).toMatchObject({
      enabled: true,
      consecutiveFailures: 0,
      deadLetters: 0,
    });
  });

  it('answers 404 for an unknown subscriber and 400 for a malformed name', async () => {
    promised(
      '/subscribers/{name}/enable',
      'post',
      404,
      await world.call('POST', '/subscribers/nobody-here/enable'),
    );
    promised(
      '/subscribers/{name}/enable',
      'post',
      400,
      await world.call('POST', '/subscribers/UPPER/enable'),
    );
    expect((await world.call('GET', `/subscribers/${world.nameOf('down')}/enable`)).status).toBe(405);
  });
});

describe('the CLI: deliveries, subscribers, resend, enable (over HTTP to this API)', () => {
  async function cli(argv: string[]) {
    const server = await serveApi(world.api);
    const out = { stdout: '', stderr: '' };
    const io: Io = {
      stdout: { write: (chunk: string) => (out.stdout += chunk) },
      stderr: { write: (chunk: string) => (out.stderr += chunk), isTTY: false } as unknown as Io['stderr'],
      env: process.env,
    };
    try {
      const code = await runCli([...argv, '--local', '--api-url', server.url], io);
      return { code, ...out };
    } finally {
      await server.close();
    }
  }

  it("shows a link's deliveries and the subscribers as tables and as JSON, resends by event id, and reports refusals", async () => {
    const linkId = await registeredLink();
    const eventId = eventIdFor(linkId, 1);
    await world.pump(async () => (await deliveryTo(linkId, 'flaky'))?.state === 'delivered');
    const name = world.nameOf('flaky');

    const table = await cli(['deliveries', linkId]);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout).toMatch(
      new RegExp(
        `^\\s*1\\s+payout_link\\.issued\\s+${name}\\s+delivered\\s+3\\s+delivered HTTP 204 at `,
        'm',
      ),
    );
    const json = JSON.parse((await cli(['deliveries', linkId, '--json'])).stdout);
    expect(json).toEqual((await world.call('GET', `/links/${linkId}/deliveries`)).body);

    const subscribers = await cli(['subscribers']);
    expect(subscribers.code).toBe(0);
    expect(subscribers.stdout).toMatch(new RegExp(`^${name}\\s+yes\\s`, 'm'));
    expect(subscribers.stdout).not.toContain('s3cr3t');
    expect(JSON.parse((await cli(['subscribers', '--json'])).stdout)).toMatchObject({
      subscribers: expect.arrayContaining([expect.objectContaining({ name, enabled: true })]),
    });

    const resent = await cli(['resend', '--subscriber', name, eventId]);
    expect(resent).toMatchObject({ code: 0, stderr: '' });
    expect(resent.stdout).toBe(
      `Queued 1 event for ${name}: each arrives again with its original webhook-id.\n`,
    );
    await world.pump(async () => ((await deliveryTo(linkId, 'flaky'))?.attempts.length ?? 0) >= 4);
    expect(flaky.ofId(eventId)).toHaveLength(4);

    const refused = await cli(['resend', '--subscriber', 'nobody-here', eventId, '--json']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('404');
    const missing = await cli(['resend', eventId]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--subscriber NAME is required.');

    const enabled = await cli(['enable', '--subscriber', name, '--json']);
    expect(enabled.code).toBe(0);
    expect(JSON.parse(enabled.stdout)).toMatchObject({ name, enabled: true });
  });
});
