import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MAX_ANSWER_BYTES,
  postWebhook,
  type ResolveHost,
  resolveHost,
  USER_AGENT,
} from '#shared/webhooks/delivery.ts';
import { generateWebhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { TEST_TLS_CERT, TEST_TLS_KEY, TEST_TLS_NAME } from '#test/support/test-tls.ts';

/**
 * One attempt against receivers on loopback: what goes out on the wire, what is read of the answer,
 * and which address the connection goes to. Names are resolved by the test's own resolver.
 */
const secret = generateWebhookSecret();
const BODY = JSON.stringify({ type: 'payout_link.claimed', data: { amount: '₹120.11' } });
const attempt = (url: string) => ({
  url,
  id: 'msg_2Kz1nNwM4aFq',
  body: BODY,
  secrets: [secret],
  timestampSeconds: Math.floor(Date.now() / 1000),
});

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Array<http.Server | https.Server> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A receiver on `host` that records each request and answers with `answer` once the body is in. */
async function receiver(
  answer: (res: ServerResponse, req: IncomingMessage) => void = (res) => res.writeHead(204).end(),
  options: { host?: string; tls?: boolean } = {},
) {
  const received: Received[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      answer(res, req);
    });
  };
  const server = options.tls
    ? https.createServer({ key: TEST_TLS_KEY, cert: TEST_TLS_CERT }, handler)
    : http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  return { received, port: (server.address() as AddressInfo).port };
}

/** A resolver that knows the names given, and counts its calls. */
function resolverOf(names: Record<string, string[]>) {
  const calls: string[] = [];
  const resolve: ResolveHost = async (hostname) => {
    calls.push(hostname);
    return (names[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { calls, resolve };
}

const refusingResolver: ResolveHost = async (hostname) => {
  throw new Error(`no lookup expected, got ${hostname}`);
};

describe('postWebhook: the request', () => {
  it('POSTs the body to the path and query of the URL with the Standard Webhooks headers, signed with the secret', async () => {
    const { received, port } = await receiver();
    const sent = attempt(`http://127.0.0.1:${port}/hooks/payout?tenant=7`);

    const before = performance.now();
    const result = await postWebhook({ ...sent, allowLoopback: true });
    const elapsed = performance.now() - before;

    expect(result).toMatchObject({ status: 204, retryAfter: null, bodyBytesRead: 0 });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(result.latencyMs).toBeLessThanOrEqual(elapsed);
    const [request] = received;
    expect(request).toMatchObject({ method: 'POST', url: '/hooks/payout?tenant=7', body: BODY });
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(BODY)),
      'user-agent': USER_AGENT,
      'webhook-id': sent.id,
      'webhook-timestamp': String(sent.timestampSeconds),
    });
    expect(USER_AGENT).toMatch(/^payout-link-tracker-webhooks\/\d/);
    expect(() => new Webhook(secret).verify(BODY, request!.headers as Record<string, string>)).not.toThrow();
  });

  it('leaves no timer behind once the attempt is over', async () => {
    const { port } = await receiver();
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();

    await postWebhook({ ...attempt(`http://127.0.0.1:${port}/`), allowLoopback: true, timeoutMs: 60_000 });

    expect(timers()).toBeLessThanOrEqual(before);
  });
});

describe('postWebhook: reading the answer', () => {
  it('answers the status and Retry-After the subscriber gave', async () => {
    const { port } = await receiver((res) => res.writeHead(503, { 'retry-after': '120' }).end('busy'));

    const result = await postWebhook({ ...attempt(`http://127.0.0.1:${port}/`), allowLoopback: true });

    expect(result).toMatchObject({ status: 503, retryAfter: '120', bodyBytesRead: 4 });
  });

  it('reads a short answer to its end, however the subscriber splits it', async () => {
    const { port } = await receiver((res) => {
      res.writeHead(200);
      res.write('received, ');
      setTimeout(() => res.end('thanks'), 100);
    });

    const result = await postWebhook({ ...attempt(`http://127.0.0.1:${port}/`), allowLoopback: true });

    expect(result).toMatchObject({ status: 200, bodyBytesRead: 16 });
  });

  it('reads at most a bounded prefix of an endless answer, then drops the connection', async () => {
    let dropped: () => void = () => {};
    const connectionDropped = new Promise<void>((resolve) => {
      dropped = resolve;
    });
    const { port } = await receiver((res) => {
      res.on('close', () => dropped());
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 120);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });

    const result = await postWebhook({ ...attempt(`http://127.0.0.1:${port}/`), allowLoopback: true });
    await connectionDropped;

    expect(result.status).toBe(200);
    expect(result.bodyBytesRead).toBeGreaterThanOrEqual(MAX_ANSWER_BYTES);
    expect(result.bodyBytesRead).toBeLessThanOrEqual(MAX_ANSWER_BYTES + 1024 * 1024);
  });

  it('stops reading as soon as the bounded prefix is in, even when the subscriber then stalls', async () => {
    const { port } = await receiver((res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(MAX_ANSWER_BYTES, 120));
    });

    const result = await postWebhook({
      ...attempt(`http://127.0.0.1:${port}/`),
      allowLoopback: true,
      timeoutMs: 20_000,
    });

    expect(result).toMatchObject({ status: 200, bodyBytesRead: MAX_ANSWER_BYTES });
  });

  it('keeps the status of an answer whose body stalls past the deadline: the subscriber answered', async () => {
    const { port } = await receiver((res) => {
      res.writeHead(202, { 'retry-after': '5' });
      res.write('partial');
    });

    const result = await postWebhook({
      ...attempt(`http://127.0.0.1:${port}/`),
      allowLoopback: true,
      timeoutMs: 300,
    });

    expect(result).toMatchObject({ status: 202, retryAfter: '5', bodyBytesRead: 7 });
    expect(result.error).toBeUndefined();
  });
});

describe('postWebhook: failures without an answer', () => {
  it('is a timeout when the lookup does not answer before the deadline', async () => {
    const hanging: ResolveHost = () => new Promise(() => {});

    const result = await postWebhook({
      ...attempt('https://hooks.example.com/'),
      resolve: hanging,
      timeoutMs: 50,
    });

    expect(result.error).toBe('timeout');
    expect(result.status).toBeUndefined();
  });

  it('is a connection error when the name resolves to no address, or the lookup fails', async () => {
    const empty = await postWebhook({
      ...attempt('https://hooks.example.com/'),
      resolve: resolverOf({}).resolve,
    });
    const failing = await postWebhook({
      ...attempt('https://hooks.example.com/'),
      resolve: async () => {
        throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.com'), { code: 'ENOTFOUND' });
      },
    });

    expect(empty.error).toBe('connection');
    expect(failing.error).toBe('connection');
  });
});

describe('postWebhook: the address it connects to', () => {
  it('refuses a URL the guard refuses before any lookup or connection, saying why', async () => {
    const { received, port } = await receiver();

    const result = await postWebhook({ ...attempt(`http://127.0.0.1:${port}/`), resolve: refusingResolver });

    expect(result).toMatchObject({
      error: 'refused-address',
      refusal: 'the subscriber URL must use https, must not point at a loopback address',
    });
    expect(received).toEqual([]);
  });

  it('refuses a name if any address it resolves to is not public (or not an address), never naming it', async () => {
    for (const addresses of [['93.184.216.34', '10.0.0.1'], ['169.254.169.254'], ['not-an-address']]) {
      const result = await postWebhook({
        ...attempt('https://hooks.example.com/'),
        resolve: resolverOf({ 'hooks.example.com': addresses }).resolve,
      });

      expect(result).toMatchObject({
        error: 'refused-address',
        refusal: 'the subscriber URL resolves to a non-public address',
      });
      for (const address of addresses) expect(result.refusal).not.toContain(address);
    }
  });

  it('resolves a name once and connects to the address it checked, with the name as Host', async () => {
    const { received, port } = await receiver();
    const dns = resolverOf({ 'receiver.localhost': ['127.0.0.1'] });

    const result = await postWebhook({
      ...attempt(`http://receiver.localhost:${port}/`),
      allowLoopback: true,
      resolve: dns.resolve,
    });

    expect(result.status).toBe(204);
    expect(dns.calls).toEqual(['receiver.localhost']);
    expect(received[0]?.headers.host).toBe(`receiver.localhost:${port}`);
  });

  it('connects to an IPv6 address literal as written, without a lookup', async () => {
    const { received, port } = await receiver(undefined, { host: '::1' });

    const result = await postWebhook({
      ...attempt(`http://[::1]:${port}/`),
      allowLoopback: true,
      resolve: refusingResolver,
    });

    expect(result.status).toBe(204);
    expect(received[0]?.headers.host).toBe(`[::1]:${port}`);
  });

  it('connects to a checked address of the family the connection pool asks for, or any when it has none of it', async () => {
    const v6 = await receiver(undefined, { host: '::1' });
    const v4 = await receiver(undefined, { host: '127.0.0.1' });
    const both = { 'v4-first.localhost': ['127.0.0.1', '::1'], 'v6-first.localhost': ['::1', '127.0.0.1'] };
    const only4 = { 'v4-only.localhost': ['127.0.0.1'] };
    const send = (url: string, names: Record<string, string[]>, agent: http.Agent) =>
      postWebhook({
        ...attempt(url),
        allowLoopback: true,
        resolve: resolverOf(names).resolve,
        agents: { http: agent },
      });

    const asked6 = await send(`http://v4-first.localhost:${v6.port}/`, both, new http.Agent({ family: 6 }));
    const asked4 = await send(`http://v6-first.localhost:${v4.port}/`, both, new http.Agent({ family: 4 }));
    const none6 = await send(`http://v4-only.localhost:${v4.port}/`, only4, new http.Agent({ family: 6 }));
    const single = await send(
      `http://v4-only.localhost:${v4.port}/`,
      only4,
      new http.Agent({ autoSelectFamily: false }),
    );

    expect([asked6.status, asked4.status, none6.status, single.status]).toEqual([204, 204, 204, 204]);
    expect(v6.received).toHaveLength(1);
    expect(v4.received).toHaveLength(3);
  });

  it('goes through the connection pool it is given, to the default port of the scheme when the URL names none', async () => {
    const { received, port } = await receiver();
    const ports: unknown[] = [];
    const pool = new http.Agent();
    // The pool connects wherever the test says: records the port asked for, then goes to the receiver.
    pool.createConnection = (options, callback) => {
      ports.push((options as { port?: unknown }).port);
      return http.globalAgent.createConnection({ ...options, port }, callback) as Socket;
    };

    const result = await postWebhook({
      ...attempt('http://receiver.localhost/'),
      allowLoopback: true,
      resolve: resolverOf({ 'receiver.localhost': ['127.0.0.1'] }).resolve,
      agents: { http: pool },
    });

    expect(result.status).toBe(204);
    expect(ports).toEqual([80]);
    expect(received[0]?.headers.host).toBe('receiver.localhost');
  });

  it('speaks TLS to the checked address, checking the certificate against the name', async () => {
    const { received, port } = await receiver(undefined, { tls: true });
    const trusting = new https.Agent({ ca: TEST_TLS_CERT });

    const result = await postWebhook({
      ...attempt(`https://${TEST_TLS_NAME}:${port}/`),
      allowLoopback: true,
      resolve: resolverOf({ [TEST_TLS_NAME]: ['127.0.0.1'] }).resolve,
      agents: { https: trusting },
    });

    expect(result.status).toBe(204);
    expect(received[0]?.headers.host).toBe(`${TEST_TLS_NAME}:${port}`);
  });
});

describe('resolveHost', () => {
  it('answers every address of a name', async () => {
    const addresses = await resolveHost('localhost');

    expect(Array.isArray(addresses)).toBe(true);
    expect(addresses.length).toBeGreaterThan(0);
    for (const entry of addresses) expect(['127.0.0.1', '::1']).toContain(entry.address);
  });
});
