import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createSubscriberRouting, putSecret } from '#infra/local/aws-resources.ts';
import { pollOnce } from '#infra/local/sqs-event-source.ts';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { systemClock } from '#shared/clock.ts';
import { eventIdFor } from '#shared/link/link-event.ts';
import { createEmfWriter } from '#shared/observability/emf.ts';
import { deliveryTarget } from '#shared/webhooks/delivery-config.ts';
import { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { webhookType } from '#shared/webhooks/webhook-body.ts';
import { generateWebhookSecret, webhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { captureLog } from '#test/support/capture-log.ts';
import { deliverHandler } from '#test/support/deliver-handler.ts';
import { FINAL_MINUTE, registerAll, runSchedule } from '#test/support/ledger.ts';
import { report, scenarioFile, scenarioWorld, sleep } from './scenario.ts';

const clock = new ManualClock(Date.parse('2026-12-05T10:00:00Z'));
const file = scenarioFile(clock);
const { logs } = file;

interface Received {
  id: string;
  headers: Record<string, string>;
  body: string;
  answered: number;
}

/** A subscriber on loopback that answers 503 (Retry-After: 5) while `down`, 204 otherwise. */
async function subscriber() {
  const state = { down: true, received: [] as Received[] };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const answered = state.down ? 503 : 204;
      const headers = req.headers as Record<string, string>;
      state.received.push({ id: headers['webhook-id'] ?? '', headers, body, answered });
      res.writeHead(answered, state.down ? { 'retry-after': '5' } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/payout-links`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('reliability: a webhook subscriber down', () => {
  it('7. a subscriber down (503) for the first half of the run, then up: every change delivered, webhook-id = eventId, none with two ids', {
    timeout: 240_000,
  }, async () => {
    const { world, links, ledger } = await scenarioWorld('webhooks', { sandbox: file.sandbox, clock });
    logs.add(world.log.lines);
    const receiver = await subscriber();
    const name = `hooks-${randomUUID().slice(0, 6)}`;
    const routing = await createSubscriberRouting(world.clients, {
      stage: world.config.stage,
      busName: world.names.bus,
      subscriber: { name },
    });
    const secret = generateWebhookSecret();
    const secretName = `test/webhooks/${name}`;
    await putSecret(world.clients, secretName, { current: secret });
    logs.secret('the webhook secret', secret);
    logs.secret('the webhook signing key', secret.slice('whsec_'.length));
    const deliveryLog = captureLog();
    logs.add(deliveryLog.lines);
    const deliver = deliverHandler({
      targets: [deliveryTarget({ name, url: receiver.url, secretName }, routing)],
      sqs: world.clients.sqs,
      state: new SubscriberStateStore(world.names.table),
      secretFor: (target) => webhookSecret({ secretName: target.secretName }),
      log: deliveryLog.logger,
      metrics: createEmfWriter('deliver-webhooks', world.config.stage, { env: {}, write: () => {} }),
      clock: systemClock,
      random: () => 0.5,
      // The schedule compressed 10 000 times, so the subscriber's Retry-After (5 s) sets the pace.
      backoffScale: 1 / 10_000,
      timeoutMs: 2_000,
      allowLoopback: true,
    });
    // The SQS event source of deliver-webhooks, polling all along (short polls: the emulator
    // serves one request at a time).
    let pumping = true;
    const pump = (async () => {
      while (pumping) {
        const handled = await pollOnce(world.clients.sqs, routing.queue, deliver);
        // The emulator's ReceiveMessage walks every message of the queue, in flight ones included:
        // an idle pump polls once a second, not to starve the rest.
        if (handled === 0) await sleep(1_000);
      }
    })();
    onTestFinished(async () => {
      pumping = false;
      await pump;
      await receiver.close();
    });

    // Up while the links are registered; down through the first scheduled run (every link's
    // first change after registration), up again from the second.
    receiver.state.down = false;
    await registerAll(world.call, links);
    const runs = await runSchedule({
      clock,
      tracker: world.tracker,
      store: world.sweep,
      ledger,
      log: world.log.logger,
      before: (minute) => {
        receiver.state.down = minute < FINAL_MINUTE;
      },
    });
    expect(runs.map((run) => run.error).filter(Boolean)).toEqual([]);
    const ledgerReport = await ledger.verify();
    const recorded = new Map(ledger.seen.map((event) => [event.detail.eventId, event]));

    // Deliveries retried after the Retry-After the subscriber asked for, until each got its 2xx.
    const delivered = () => new Set(receiver.state.received.filter((r) => r.answered < 300).map((r) => r.id));
    const deadline = Date.now() + 90_000;
    while (delivered().size < recorded.size && Date.now() < deadline) await sleep(250);
    await sleep(1_000);
    pumping = false;
    await pump;

    const received = receiver.state.received;
    expect([...delivered()].sort()).toEqual([...recorded.keys()].sort());
    const refused = received.filter((r) => r.answered === 503);
    expect(refused.length).toBeGreaterThanOrEqual(20);
    const problems: string[] = [];
    const idsBySequence = new Map<string, Set<string>>();
    const verifier = new Webhook(secret);
    for (const request of received) {
      const body = JSON.parse(request.body) as {
        type: string;
        data: { eventId: string; linkId: string; sequence: number; status: string };
      };
      const key = `${body.data.linkId}#${body.data.sequence}`;
      idsBySequence.set(key, (idsBySequence.get(key) ?? new Set()).add(request.id));
      if (request.id !== body.data.eventId)
        problems.push(`${key}: webhook-id ${request.id} is not the eventId`);
      if (request.id !== eventIdFor(body.data.linkId, body.data.sequence))
        problems.push(`${key}: foreign id`);
      const event = recorded.get(request.id);
      if (!event) problems.push(`${key}: delivered, never recorded`);
      else if (body.type !== webhookType(event['detail-type'], event.detail.status))
        problems.push(`${key}: type ${body.type}`);
      try {
        verifier.verify(request.body, request.headers);
      } catch {
        problems.push(`${key}: signature does not verify`);
      }
    }
    for (const [key, ids] of idsBySequence)
      if (ids.size > 1) problems.push(`${key}: ${ids.size} webhook ids`);
    // Every delivery refused while the subscriber was down was delivered later with the same id.
    for (const request of refused)
      if (!delivered().has(request.id)) problems.push(`${request.id}: never delivered`);
    expect(problems).toEqual([]);
    const { Messages: deadLetters = [] } = await world.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: routing.deadLetterQueue.url, MaxNumberOfMessages: 10 }),
    );
    expect(deadLetters).toEqual([]);
    report('7-webhook-subscriber-down', ledgerReport, runs, {
      requests: received.length,
      refused: refused.length,
      delivered: delivered().size,
      redelivered: received.filter((r) => r.answered < 300).length - delivered().size,
    });
    await world.close();
  });

  it('logged nothing secret or personal', () => {
    expect(logs.lineCount).toBeGreaterThan(0);
    logs.expectClean();
  });
});
