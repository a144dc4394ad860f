import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES, postWebhook, type ResolveHost } from '#shared/webhooks/delivery.ts';
import { generateWebhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { TEST_TLS_CERT, TEST_TLS_KEY, TEST_TLS_NAME } from '#test/support/test-tls.ts';

const MB = 1024 * 1024;
const secret = generateWebhookSecret();
const attempt = (url: string) => ({
  url,
  id: 'msg_2Kz1nNwM4aFq',
  body: JSON.stringify({ type: 'payout_link.claimed', timestamp: '2026-12-05T10:00:00Z', data: {} }),
  secrets: [secret],
  timestampSeconds: Math.floor(Date.now() / 1000),
});

interface Seen {
  host: string | undefined;
  servername: string | undefined;
  verified: boolean;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A receiver on loopback that records what reached it and answers with `answer`. */
function recorder(
  answer: (req: IncomingMessage, res: ServerResponse) => void = (_q, res) => res.writeHead(204).end(),
) {
  const seen: Seen[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      let verified = false;
      try {
        new Webhook(secret).verify(body, req.headers as Record<string, string>);
        verified = true;
      } catch {}
      seen.push({
        host: req.headers.host,
        servername: (req.socket as TLSSocket).servername || undefined,
        verified,
      });
      answer(req, res);
    });
  };
  return { seen, handler };
}

/** A resolver that knows one name, counts its calls, and answers `later` after the first one (a rebinding DNS). */
function resolver(first: string[], later: string[] = ['10.0.0.1']) {
  const calls: string[] = [];
  const resolve: ResolveHost = async (hostname) => {
    calls.push(hostname);
    const addresses = calls.length === 1 ? first : later;
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { calls, resolve };
}

describe('postWebhook reading the answer', () => {
  it('reads a bounded prefix of a 256 MB answer, then drops the connection: the status and Retry-After stand', async () => {
    const streams: Array<{ written: number; finished: boolean; closed: boolean }> = [];
    const port = await listen(
      createHttpServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const stream = { written: 0, finished: false, closed: false };
          streams.push(stream);
          res.on('close', () => {
            stream.closed = true;
          });
          res.writeHead(req.url === '/busy' ? 503 : 200, {
            'content-type': 'application/octet-stream',
            'content-length': String(256 * MB),
            ...(req.url === '/busy' ? { 'retry-after': '120' } : {}),
          });
          const chunk = Buffer.alloc(64 * 1024, 120);
          const pump = () => {
            while (!stream.closed && stream.written < 256 * MB) {
              stream.written += chunk.length;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
            if (!stream.closed) {
              stream.finished = true;
              res.end();
            }
          };
          pump();
        });
      }),
    );

    for (const [path, status, retryAfter] of [
      ['/ok', 200, null],
      ['/busy', 503, '120'],
    ] as const) {
      const result = await postWebhook({
        ...attempt(`http://127.0.0.1:${port}${path}`),
        allowLoopback: true,
      });
      // Let the server see the connection go.
      for (let i = 0; i < 100 && !streams.at(-1)?.closed; i++) await new Promise((r) => setTimeout(r, 20));
      const stream = streams.at(-1)!;
      expect(stream.finished, `${path}: the server streamed the whole 256 MB`).toBe(false);
      expect(stream.closed).toBe(true);
      // What the server got out before the connection dropped: socket buffers, not the answer.
      expect(stream.written).toBeLessThan(32 * MB);
      expect(result).toMatchObject({ status, retryAfter });
      expect(result.bodyBytesRead).toBeGreaterThanOrEqual(MAX_ANSWER_BYTES);
      expect(result.bodyBytesRead).toBeLessThanOrEqual(MAX_ANSWER_BYTES + 64 * 1024);
    }
  });

  it('reads a short answer to its end and keeps nothing of it', async () => {
    const port = await listen(
      createHttpServer(recorder((_q, res) => res.writeHead(200).end('thanks')).handler),
    );
    const result = await postWebhook({ ...attempt(`http://127.0.0.1:${port}/hook`), allowLoopback: true });
    expect(result).toMatchObject({ status: 200, bodyBytesRead: 6 });
  });
});

describe('postWebhook and the address it connects to', () => {
  it('refuses a name that resolves to a private or loopback address, sending nothing, and says so without the address', async () => {
    const receiver = recorder();
    const port = await listen(createHttpServer(receiver.handler));
    for (const addresses of [
      ['127.0.0.1'],
      ['203.0.114.9', '10.20.30.40'],
      ['fd00:ec2::254'],
      ['169.254.169.254'],
    ]) {
      const dns = resolver(addresses);
      const result = await postWebhook({
        ...attempt(`https://hooks.example.com:${port}/hook`),
        allowLoopback: false,
        resolve: dns.resolve,
      });
      expect(result).toMatchObject({
        error: 'refused-address',
        refusal: 'the subscriber URL resolves to a non-public address',
      });
      expect(dns.calls).toEqual(['hooks.example.com']);
      for (const address of addresses) expect(JSON.stringify(result)).not.toContain(address);
    }
    expect(receiver.seen).toEqual([]);
  });

  it('refuses loopback names and addresses outside the local stage: localhost with a trailing dot, 127.0.0.1', async () => {
    const receiver = recorder();
    const port = await listen(createHttpServer(receiver.handler));
    for (const url of [
      `http://localhost.:${port}/hook`,
      `https://localhost.:${port}/hook`,
      `http://127.0.0.1:${port}/hook`,
      `https://[::ffff:127.0.0.1]:${port}/hook`,
    ]) {
      const result = await postWebhook({ ...attempt(url), allowLoopback: false });
      expect(result, url).toMatchObject({ error: 'refused-address' });
    }
    expect(receiver.seen).toEqual([]);
    // The same receiver, in the local stage.
    const local = await postWebhook({ ...attempt(`http://127.0.0.1:${port}/hook`), allowLoopback: true });
    expect(local).toMatchObject({ status: 204 });
    expect(receiver.seen).toHaveLength(1);
  });

  it('connects to the address it checked, without a second lookup, with the name as Host', async () => {
    const receiver = recorder();
    const port = await listen(createHttpServer(receiver.handler));
    // The name is not in any DNS: only the checked address can reach the receiver.
    const dns = resolver(['127.0.0.1'], ['10.0.0.1']);
    const result = await postWebhook({
      ...attempt(`http://localhost.rebind.localhost:${port}/hook`),
      allowLoopback: true,
      resolve: dns.resolve,
    });
    expect(result).toMatchObject({ status: 204 });
    expect(dns.calls).toHaveLength(1);
    expect(receiver.seen).toEqual([
      { host: `localhost.rebind.localhost:${port}`, servername: undefined, verified: true },
    ]);
  });

  it('speaks TLS to the checked address with the name as server name (SNI) and Host, and checks the certificate against the name', async () => {
    const receiver = recorder();
    const server = createHttpsServer({ key: TEST_TLS_KEY, cert: TEST_TLS_CERT }, receiver.handler);
    const port = await listen(server);
    const agent = new Agent({ ca: TEST_TLS_CERT, keepAlive: false });
    const dns = resolver(['127.0.0.1'], ['127.0.0.2']);

    const result = await postWebhook({
      ...attempt(`https://${TEST_TLS_NAME}:${port}/hook`),
      allowLoopback: true,
      resolve: dns.resolve,
      agents: { https: agent },
    });
    expect(result).toMatchObject({ status: 204 });
    expect(dns.calls).toEqual([TEST_TLS_NAME]);
    expect(receiver.seen).toEqual([
      { host: `${TEST_TLS_NAME}:${port}`, servername: TEST_TLS_NAME, verified: true },
    ]);

    // Another name on the same address: the certificate does not name it.
    const other = await postWebhook({
      ...attempt(`https://other.example.test:${port}/hook`),
      allowLoopback: true,
      resolve: resolver(['127.0.0.1']).resolve,
      agents: { https: agent },
    });
    expect(other).toMatchObject({ error: 'connection' });
    expect(other.status).toBeUndefined();
    expect(receiver.seen).toHaveLength(1);
    agent.destroy();
  });
});
