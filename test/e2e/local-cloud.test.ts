import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_VARIABLES } from '#infra/local/local-settings.ts';
import { SAMPLE_CREDENTIALS, SAMPLE_ENDPOINT_IP } from '#infra/sandbox/server.ts';
import { formatIst } from '#shared/instantpay/ist-time.ts';
import { generateWebhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { createRequestFromTable } from '#test/support/instantpay-published.ts';
import { promised } from '#test/support/openapi-contract.ts';
import {
  type ReceivedWebhook,
  type ScriptedReceiver,
  scriptedReceiver,
} from '#test/support/scripted-receiver.ts';

// `npm start` as a user runs it, on free ports, driven over HTTP only.
const execFileAsync = promisify(execFile);
const secret = generateWebhookSecret();
let child: ChildProcess;
let output = '';
let apiUrl = '';
let sandboxUrl = '';
let receiver: Server;
const deliveries: Array<{ headers: Record<string, string>; body: string }> = [];
let startUpProbes: StartUpProbe[] = [];
/** Links whose webhooks the flaky receiver fails twice (per webhook-id) before accepting; others it accepts. */
const flakyLinks = new Set<string>();
/** Links whose webhooks the leaving receiver answers 410 Gone; others it accepts. */
const goneLinks = new Set<string>();
const linkOf = (delivery: ReceivedWebhook) =>
  (JSON.parse(delivery.body) as { data?: { linkId?: string } }).data?.linkId ?? '';
let flaky: ScriptedReceiver;
let leaving: ScriptedReceiver;

function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const value = probe();
      if (value !== undefined) return resolve(value);
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`Timed out waiting for ${what}. Output:\n${output}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

interface StartUpProbe {
  status?: number;
  contentType?: string | null;
  retryAfter?: string | null;
  title?: string;
  /** Why there was no answer: `ECONNREFUSED` is allowed, a `TimeoutError` (a hang) is not. */
  error?: string;
}

/** Requests the API one after another until `ready()`, each bounded, recording what each got. */
async function probeDuringStartUp(url: string, ready: () => boolean): Promise<StartUpProbe[]> {
  const probes: StartUpProbe[] = [];
  while (!ready()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      probes.push({
        status: response.status,
        contentType: response.headers.get('content-type'),
        retryAfter: response.headers.get('retry-after'),
        title: response.status === 503 ? (JSON.parse(text) as { title?: string }).title : undefined,
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      probes.push({ error: cause?.code ?? (error as Error).name });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return probes;
}

function processGroupMembers(pgid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => pid > 0);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      deliveries.push({ headers: request.headers as Record<string, string>, body });
      response.writeHead(204).end();
    });
  });
  // Longer than the deliverer keeps an idle connection (undici: 4 s), so it never sends on a socket this closes.
  receiver.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  flaky = await scriptedReceiver((delivery) =>
    flakyLinks.has(linkOf(delivery)) && delivery.seen <= 2 ? 500 : 204,
  );
  leaving = await scriptedReceiver((delivery) => (goneLinks.has(linkOf(delivery)) ? 410 : 204));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    SANDBOX_PORT: '0',
    // Subscribers webhook-1 (always accepts), webhook-2 (flaky), webhook-3 (leaving).
    WEBHOOK_URLS: [receiverUrl, flaky.url, leaving.url].join(','),
    WEBHOOK_SECRET: secret,
    SANDBOX_CLOCK: 'manual',
  };
  delete env.AWS_ENDPOINT_URL;
  delete env.INSTANTPAY_BASE_URL;
  child = spawn('npm', ['start'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const startingUrl = await waitFor(
    'the API to listen',
    () => /starting: the API at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1],
  );
  const banner = () => /API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  startUpProbes = await probeDuringStartUp(`${startingUrl}/links`, () => banner() !== undefined);
  apiUrl = await waitFor('the API URL', banner);
  sandboxUrl = await waitFor(
    'the sandbox URL',
    () => /sandbox\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1],
  );
});

afterAll(async () => {
  if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  await flaky?.stop();
  await leaving?.stop();
});

/** The sandbox's manual clock (`SANDBOX_CLOCK=manual`): read it, and move it on. */
async function sandboxNow(): Promise<number> {
  return ((await (await fetch(`${sandboxUrl}/sandbox/clock`)).json()) as { now: number }).now;
}

async function advance(ms: number): Promise<void> {
  const moved = await fetch(`${sandboxUrl}/sandbox/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ advanceMs: ms }),
  });
  expect(moved.status).toBe(200);
}

describe('npm start: the whole system on one machine', () => {
  it('answers every request made while it starts with a 503 problem and Retry-After, never leaving one hanging', () => {
    expect(startUpProbes.map((probe) => probe.error).filter(Boolean)).not.toContain('TimeoutError');
    const starting = startUpProbes.filter((probe) => probe.status === 503);
    // At least one request fell between listening and being ready, or this proves nothing.
    expect(starting.length).toBeGreaterThan(0);
    for (const probe of starting) {
      expect(probe).toMatchObject({ contentType: 'application/problem+json', title: 'Starting up' });
      expect(Number(probe.retryAfter)).toBeGreaterThan(0);
    }
    for (const probe of startUpProbes) {
      expect([200, 503, undefined]).toContain(probe.status);
      if (probe.status === undefined) expect(probe.error).toBe('ECONNREFUSED');
    }
  });

  it('prints the webhook secret and the curls to try', () => {
    expect(output).toContain(secret);
    expect(output).toContain(`curl -s -X POST ${sandboxUrl}/sandbox/links`);
    expect(output).toContain(`curl -s -X POST ${apiUrl}/links`);
  });

  it('tracks a link ISSUED -> PROCESSING -> CLAIMED and delivers three signed webhooks in order', async () => {
    // The sandbox's clock moves only when told: each status lasts until a scheduled check has seen it,
    // however slow the machine (a real-time timeline raced the checks and could skip PROCESSING).
    // From npm start's start-up to now, so the link's activity is as recent as a real one.
    await advance(Math.max(0, Date.now() - (await sandboxNow())));
    const created = await fetch(`${sandboxUrl}/sandbox/links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        amount: 750,
        timeline: [
          { afterMs: 0, status: 'ISSUED' },
          { afterMs: 2_000, status: 'PROCESSING' },
          { afterMs: 4_000, status: 'CLAIMED' },
        ],
      }),
    });
    expect(created.status).toBe(201);
    const { linkId } = (await created.json()) as { linkId: string };

    const registered = await fetch(`${apiUrl}/links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ linkId, reference: 'E2E-1' }),
    });
    expect(registered.status).toBe(201);

    // Bounded by a minute each: a failed first delivery is retried within 5 s.
    await waitFor('the ISSUED webhook', () => (deliveries.length >= 1 ? true : undefined));
    await advance(2_000);
    await waitFor('the PROCESSING webhook', () => (deliveries.length >= 2 ? true : undefined));
    await advance(2_000);
    await waitFor('the CLAIMED webhook', () => (deliveries.length >= 3 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const verifier = new Webhook(secret);
    // Discovery watches other links too (the preloaded sample): this link's deliveries only.
    const mine = deliveries.filter((d) => d.body.includes(`"linkId":"${linkId}"`));
    const payloads = mine.map(
      (d) =>
        verifier.verify(d.body, d.headers) as {
          type: string;
          data: { sequence: number; status: string; linkId: string };
        },
    );
    expect(payloads).toHaveLength(3);
    expect(payloads.map((p) => [p.data.sequence, p.data.status, p.type])).toEqual([
      [1, 'ISSUED', 'payout_link.issued'],
      [2, 'PROCESSING', 'payout_link.processing'],
      [3, 'CLAIMED', 'payout_link.claimed'],
    ]);
    expect(payloads.every((p) => p.data.linkId === linkId)).toBe(true);

    const view = (await (await fetch(`${apiUrl}/links/${linkId}`)).json()) as {
      status: string;
      final: boolean;
    };
    expect(view).toMatchObject({ status: 'CLAIMED', final: true });
    const history = (await (await fetch(`${apiUrl}/links/${linkId}/events`)).json()) as {
      events: Array<{ eventId: string }>;
    };
    expect(history.events.map((e) => e.eventId)).toEqual(mine.map((d) => d.headers['webhook-id']));
  });

  it('watches a link created through the documented create call and never registered, within two discovery intervals, and delivers its changes as signed webhooks', async () => {
    await advance(Math.max(0, Date.now() - (await sandboxNow())));
    const now = await sandboxNow();
    const created = await fetch(`${sandboxUrl}/payments/payout/link/create`, {
      method: 'POST',
      headers: {
        'X-Ipay-Auth-Code': '1',
        'X-Ipay-Client-Id': SAMPLE_CREDENTIALS.clientId,
        'X-Ipay-Client-Secret': SAMPLE_CREDENTIALS.clientSecret,
        'X-Ipay-Endpoint-Ip': SAMPLE_ENDPOINT_IP,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(createRequestFromTable(formatIst(now), formatIst(now + 3_600_000))),
    });
    const answer = (await created.json()) as { statuscode: string; data: { linkId: string; status: string } };
    expect(answer).toMatchObject({ statuscode: 'TXN', data: { status: 'ISSUED' } });
    const { linkId } = answer.data;
    const watching = async () =>
      (
        (await (await fetch(`${apiUrl}/links?state=watching&limit=100`)).json()) as {
          links: Array<{ linkId: string }>;
        }
      ).links.some((link) => link.linkId === linkId);

    // Two intervals of the default DISCOVERY_INTERVAL_SECONDS (5), plus 5 s for a slow shared machine.
    const since = Date.now();
    while (!(await watching())) {
      if (Date.now() - since > 2 * 5_000 + 5_000)
        throw new Error(`${linkId} was not discovered. Output:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const mine = () => deliveries.filter((d) => d.body.includes(`"linkId":"${linkId}"`));
    await waitFor('the ISSUED webhook', () => (mine().length >= 1 ? true : undefined));
    // The sandbox's default life of a created link: a claim in progress after 60 s, claimed 30 s later.
    await advance(60_000);
    await waitFor('the PROCESSING webhook', () => (mine().length >= 2 ? true : undefined));
    await advance(30_000);
    await waitFor('the CLAIMED webhook', () => (mine().length >= 3 ? true : undefined));
    const verifier = new Webhook(secret);
    const payloads = mine().map(
      (d) =>
        verifier.verify(d.body, d.headers) as { data: { sequence: number; status: string; trigger: string } },
    );
    expect(payloads.map((p) => [p.data.sequence, p.data.status, p.data.trigger])).toEqual([
      [1, 'ISSUED', 'discovered'],
      [2, 'PROCESSING', 'scheduled'],
      [3, 'CLAIMED', 'scheduled'],
    ]);
    // Discovered, never registered: InstantPay's referenceNo is its reference.
    const view = (await (await fetch(`${apiUrl}/links/${linkId}`)).json()) as { reference?: string };
    expect(view.reference).toBe('INV-42');
  });

  it('is driven by the payout-link-tracker CLI with --local', async () => {
    const port = new URL(apiUrl).port;
    // Not execFileSync: a blocked test process would leave the receiver's sockets unserved meanwhile.
    const cli = async (...args: string[]) =>
      (
        await execFileAsync('node', ['infra/cli/bin.mjs', ...args, '--local', '--json'], {
          encoding: 'utf8',
          env: { ...process.env, PORT: port },
        })
      ).stdout;
    const watched = JSON.parse(await cli('watch', '65704add83911e52b70ebcbc'));
    expect(JSON.stringify(watched)).toContain('65704add83911e52b70ebcbc');
    const tracked = JSON.parse(await cli('track', '65704add83911e52b70ebcbc'));
    expect(tracked).toMatchObject({ linkId: '65704add83911e52b70ebcbc', status: 'CLAIMED', final: true });
    const events = JSON.parse(await cli('events', '65704add83911e52b70ebcbc'));
    expect(JSON.stringify(events)).toContain('"sequence":1');
    const listed = JSON.parse(await cli('list', '--state', 'final'));
    expect(JSON.stringify(listed)).toContain('65704add83911e52b70ebcbc');
  });

  describe('deliveries you can see and repeat, over HTTP', () => {
    type Delivery = {
      eventId: string;
      sequence: number;
      subscriber: string;
      state: string;
      attempts: Array<{ attempt: number; outcome: string; httpStatus?: number }>;
    };
    /** A call to the API as a receiver's operator makes it, checked against the published document. */
    const call = async (method: string, path: string, template: string, status: number, body?: unknown) => {
      const response = await fetch(`${apiUrl}${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await response.text();
      const answer = {
        status: response.status,
        headers: Object.fromEntries(response.headers.entries()),
        body: text ? JSON.parse(text) : undefined,
      };
      promised(template, method.toLowerCase(), status, answer);
      return answer.body;
    };
    const deliveryOf = async (linkId: string, subscriber: string, sequence: number) =>
      (
        (await call('GET', `/links/${linkId}/deliveries`, '/links/{linkId}/deliveries', 200)) as {
          deliveries: Delivery[];
        }
      ).deliveries.find((d) => d.subscriber === subscriber && d.sequence === sequence);
    const subscriberNamed = async (name: string) =>
      (
        (await call('GET', '/subscribers', '/subscribers', 200)) as {
          subscribers: Array<Record<string, unknown>>;
        }
      ).subscribers.find((s) => s.name === name);
    /** Polls until `probe` holds, bounded generously (the schedule is compressed, the machine noisy). */
    const until = async (what: string, probe: () => Promise<boolean>, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await probe())) {
        if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}. Output:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    let linkId = '';
    const advance = async (ms: number) => {
      const moved = await fetch(`${sandboxUrl}/sandbox/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ advanceMs: ms }),
      });
      expect(moved.status).toBe(200);
    };

    beforeAll(async () => {
      const sandboxNow = ((await (await fetch(`${sandboxUrl}/sandbox/clock`)).json()) as { now: number }).now;
      await advance(Math.max(0, Date.now() - sandboxNow));
      const created = await fetch(`${sandboxUrl}/sandbox/links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          amount: 320,
          timeline: [
            { afterMs: 0, status: 'ISSUED' },
            { afterMs: 2_000, status: 'PROCESSING' },
          ],
        }),
      });
      expect(created.status).toBe(201);
      linkId = ((await created.json()) as { linkId: string }).linkId;
      flakyLinks.add(linkId);
      goneLinks.add(linkId);
      const registered = await fetch(`${apiUrl}/links`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ linkId, reference: 'E2E-DELIVERIES' }),
      });
      expect(registered.status).toBe(201);
    });

    it('shows a receiver that failed twice then accepted: three attempts and the state delivered', async () => {
      await until(
        'the flaky delivery to be delivered',
        async () => (await deliveryOf(linkId, 'webhook-2', 1))?.state === 'delivered',
      );
      const delivery = await deliveryOf(linkId, 'webhook-2', 1);
      expect(delivery!.attempts.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
        [1, 'failed', 500],
        [2, 'failed', 500],
        [3, 'delivered', 204],
      ]);
      expect(flaky.ofId(delivery!.eventId)).toHaveLength(3);
    });

    it('resends an event with the same webhook-id, signed, and adds an attempt', async () => {
      const { eventId } = (await deliveryOf(linkId, 'webhook-2', 1))!;
      const queued = await call('POST', '/subscribers/webhook-2/resend', '/subscribers/{name}/resend', 202, {
        eventIds: [eventId],
      });
      expect(queued).toEqual({ queued: 1 });
      await until('the resent webhook', async () => flaky.ofId(eventId).length >= 4);
      await until(
        'the fourth attempt',
        async () => (await deliveryOf(linkId, 'webhook-2', 1))?.attempts.length === 4,
      );
      const again = flaky.ofId(eventId);
      expect(new Set(again.map((d) => d.headers['webhook-id']))).toEqual(new Set([eventId]));
      expect(new Webhook(secret).verify(again[3]!.body, again[3]!.headers)).toMatchObject({
        data: { eventId, linkId },
      });
      expect((await deliveryOf(linkId, 'webhook-2', 1))!.attempts.at(-1)).toMatchObject({
        attempt: 4,
        outcome: 'delivered',
      });
    });

    it('disables a receiver that answered 410, holds its later deliveries as disabled, and enable resumes them', async () => {
      await until(
        'the 410 to disable webhook-3',
        async () => (await subscriberNamed('webhook-3'))?.enabled === false,
      );
      expect(await subscriberNamed('webhook-3')).toMatchObject({
        enabled: false,
        disabledReason: 'HTTP 410 Gone',
      });
      expect((await deliveryOf(linkId, 'webhook-3', 1))!).toMatchObject({
        state: 'disabled',
        attempts: [expect.objectContaining({ attempt: 1, outcome: 'gone', httpStatus: 410 })],
      });

      // The link moves on: its PROCESSING webhook is held for the disabled receiver, with no attempt.
      await advance(2_000);
      await until(
        'the PROCESSING delivery held as disabled',
        async () => (await deliveryOf(linkId, 'webhook-3', 2))?.state === 'disabled',
      );
      expect((await deliveryOf(linkId, 'webhook-3', 2))!.attempts).toEqual([]);
      expect(leaving.received.filter((d) => linkOf(d) === linkId)).toHaveLength(1);

      goneLinks.delete(linkId);
      const enabled = await call('POST', '/subscribers/webhook-3/enable', '/subscribers/{name}/enable', 200);
      expect(enabled).toMatchObject({ name: 'webhook-3', enabled: true });
      await until(
        'both held deliveries to be delivered',
        async () =>
          (await deliveryOf(linkId, 'webhook-3', 1))?.state === 'delivered' &&
          (await deliveryOf(linkId, 'webhook-3', 2))?.state === 'delivered',
      );
      expect(
        leaving.received
          .filter((d) => linkOf(d) === linkId)
          .map((d) => JSON.parse(d.body).data.sequence)
          .sort(),
      ).toEqual([1, 1, 2]);
      expect(await subscriberNamed('webhook-3')).toMatchObject({ enabled: true, consecutiveFailures: 0 });
    });
  });

  it('serves its OpenAPI document at /openapi.json', async () => {
    const document = (await (await fetch(`${apiUrl}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual([
      '/links',
      '/links/{linkId}',
      '/links/{linkId}/events',
      '/links/{linkId}/deliveries',
      '/subscribers',
      '/subscribers/{name}/resend',
      '/subscribers/{name}/enable',
    ]);
  });

  it('stops every process it started on SIGINT, within 5 seconds', async () => {
    const pgid = child.pid!;
    expect(processGroupMembers(pgid).length).toBeGreaterThan(1);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(-pgid, 'SIGINT');
    const started = Date.now();
    await exited;
    await waitFor(
      'every process to exit',
      () => (processGroupMembers(pgid).length === 0 ? true : undefined),
      5_000,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('npm start -- --help', () => {
  it('lists every variable with its default', () => {
    const help = execFileSync('npm', ['start', '--silent', '--', '--help'], { encoding: 'utf8' });
    for (const [name, fallback] of LOCAL_VARIABLES) {
      expect(help).toContain(name);
      if (fallback) expect(help).toContain(`default: ${fallback}`);
    }
  });
});
