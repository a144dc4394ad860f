import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localClients, putSecret } from '#infra/local/aws-resources.ts';
import {
  SAMPLE_CREDENTIALS,
  SAMPLE_LINK_ID,
  SAMPLE_TRACK_DATA,
  type Sandbox,
  startSandbox,
} from '#infra/sandbox/server.ts';
import { instantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import { createInstantPayClient } from '#shared/instantpay/client.ts';
import {
  InvalidLinkIdError,
  LinkNotFoundError,
  UpstreamCredentialsError,
  UpstreamIntegrationError,
  UpstreamProtocolError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from '#shared/instantpay/errors.ts';
import { createInstantPayListClient } from '#shared/instantpay/list-client.ts';
import { countCalls } from '#test/support/sdk-call-counter.ts';

const clients = localClients();
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
afterEach(async () => {
  await fetch(`${sandbox.url}/sandbox/faults`, { method: 'DELETE' });
});

const good = {
  clientId: SAMPLE_CREDENTIALS.clientId,
  clientSecret: SAMPLE_CREDENTIALS.clientSecret,
  endpointIp: '125.0.0.1',
};

async function clientWith(secret: Record<string, string>, options: { timeoutMs?: number } = {}) {
  const secretName = `test/client/${randomUUID()}`;
  await putSecret(clients, secretName, { baseUrl: sandbox.url, ...secret });
  const secrets = new SecretsManagerClient({});
  const calls = countCalls(secrets);
  const credentials = instantPayCredentials({ secretName, client: secrets });
  const clientOptions = { credentials, timeoutMs: options.timeoutMs ?? 1_000 };
  return {
    // Track and List as the functions build them: two clients over one credentials source.
    client: { ...createInstantPayClient(clientOptions), ...createInstantPayListClient(clientOptions) },
    secretName,
    calls,
  };
}

async function fault(body: Record<string, unknown>) {
  const response = await fetch(`${sandbox.url}/sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}

describe('InstantPay client against the sandbox over HTTP', () => {
  it('tracks the documented sample link and returns its data as an observation', async () => {
    const { client } = await clientWith(good);
    const observation = await client.trackLink(SAMPLE_LINK_ID);
    expect(observation).toMatchObject({
      linkId: SAMPLE_LINK_ID,
      status: SAMPLE_TRACK_DATA.status,
      amount: SAMPLE_TRACK_DATA.amount,
      activity: SAMPLE_TRACK_DATA.linkActivity,
      statuscode: 'TXN',
      environment: 'SANDBOX',
    });
    expect(observation.ipayUuid).toMatch(/^h000/);
    expect(observation.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('keeps an unknown link status as it is', async () => {
    const { client } = await clientWith(good);
    const linkId = sandbox.createLink({ amount: 5, timeline: [{ afterMs: 0, status: 'ON_HOLD' }] });
    await expect(client.trackLink(linkId)).resolves.toMatchObject({ status: 'ON_HOLD' });
  });

  it('reports a link InstantPay does not know as not found', async () => {
    const { client } = await clientWith(good);
    await expect(client.trackLink('0123456789abcdef01234567')).rejects.toBeInstanceOf(LinkNotFoundError);
  });

  it.each([
    ['TUP', UpstreamUnavailableError],
    ['SPD', UpstreamUnavailableError],
    ['IAC', UpstreamCredentialsError],
    ['RPI', UpstreamIntegrationError],
    ['IUA', UpstreamCredentialsError],
    ['ZZZ', UpstreamRejectedError],
  ])('classifies statuscode %s', async (statuscode, type) => {
    const { client } = await clientWith(good);
    await fault({ kind: 'statuscode', value: statuscode });
    await expect(client.trackLink(SAMPLE_LINK_ID)).rejects.toBeInstanceOf(type);
  });

  it('turns a body that is not JSON into a protocol error', async () => {
    const { client } = await clientWith(good);
    await fault({ kind: 'malformed' });
    await expect(client.trackLink(SAMPLE_LINK_ID)).rejects.toBeInstanceOf(UpstreamProtocolError);
  });

  it('treats HTTP 500 as transient', async () => {
    const { client } = await clientWith(good);
    await fault({ kind: 'http-status', value: 500 });
    await expect(client.trackLink(SAMPLE_LINK_ID)).rejects.toMatchObject({
      reason: 'http-status',
      httpStatus: 500,
    });
  });

  it('treats HTTP 429 as transient and reads its Retry-After', async () => {
    const { client } = await clientWith(good);
    await fault({ kind: 'http-status', value: 429 });
    const error = await client.trackLink(SAMPLE_LINK_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ httpStatus: 429, retryAfterSeconds: 1 });
  });

  it('gives up at its timeout when InstantPay is slow, as a transient error', async () => {
    const { client } = await clientWith(good, { timeoutMs: 200 });
    await fault({ kind: 'latency', value: 2_000 });
    const started = Date.now();
    const error = await client.trackLink(SAMPLE_LINK_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1_900);
  });

  it('reports a refused connection as transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { client } = await clientWith({ ...good, baseUrl: `http://127.0.0.1:${port}` });
    await expect(client.trackLink(SAMPLE_LINK_ID)).rejects.toMatchObject({
      kind: 'unavailable',
      reason: 'network',
    });
  });

  it('refuses an invalid link id before any request', async () => {
    const { client, calls } = await clientWith(good);
    const before = sandbox.stats().total;
    await expect(client.trackLink('../etc/passwd')).rejects.toBeInstanceOf(InvalidLinkIdError);
    expect(sandbox.stats().total).toBe(before);
    expect(calls.get('GetSecretValueCommand')).toBeUndefined();
  });

  it('refetches rotated credentials once when InstantPay rejects the cached ones, then succeeds', async () => {
    const { client, secretName, calls } = await clientWith({ ...good, clientSecret: 'stale-secret' });
    await expect(client.trackLink(SAMPLE_LINK_ID)).rejects.toBeInstanceOf(UpstreamCredentialsError);
    expect(calls.get('GetSecretValueCommand')).toBe(2);

    await putSecret(clients, secretName, { ...good, baseUrl: sandbox.url });
    await expect(client.trackLink(SAMPLE_LINK_ID)).resolves.toMatchObject({ statuscode: 'TXN' });
    expect(calls.get('GetSecretValueCommand')).toBe(3);
    // The fresh secret is cached again: no more reads.
    await client.trackLink(SAMPLE_LINK_ID);
    expect(calls.get('GetSecretValueCommand')).toBe(3);
  });
});

describe('InstantPay client List call against the sandbox over HTTP', () => {
  beforeAll(() => {
    sandbox.reset();
  });

  it('pages through the links of the asked statuses with a GET carrying the documented JSON body', async () => {
    const { client } = await clientWith(good);
    const issued = Array.from({ length: 5 }, (_, i) =>
      sandbox.createLink({
        amount: 10 + i,
        referenceNo: `INV-${i}`,
        timeline: [{ afterMs: 0, status: 'ISSUED' }],
      }),
    );
    sandbox.createLink({ amount: 1, timeline: [{ afterMs: 0, status: 'CANCELLED' }] });
    const before = sandbox.stats().listCalls;

    const first = await client.listLinks({ statuses: ['ISSUED'], pageNumber: 1, recordsPerPage: 2 });
    const second = await client.listLinks({ statuses: ['ISSUED'], pageNumber: 2, recordsPerPage: 2 });
    const last = await client.listLinks({ statuses: ['ISSUED'], pageNumber: 3, recordsPerPage: 2 });
    const past = await client.listLinks({ statuses: ['ISSUED'], pageNumber: 4, recordsPerPage: 2 });

    expect(sandbox.stats().listCalls - before).toBe(4);
    expect([first, second, last, past].map((page) => page.received)).toEqual([2, 2, 1, 0]);
    const listed = [...first.links, ...second.links, ...last.links];
    expect(listed.map((link) => link.linkId).sort()).toEqual([...issued].sort());
    expect(first.meta).toEqual({
      totalPages: 3,
      currentPage: 1,
      totalRecords: 5,
      recordsOnCurrentPage: 2,
      recordFrom: 1,
      recordTo: 2,
    });
    // Every field of the record is kept, the ones the tracker reads and the others.
    expect(listed[0]).toMatchObject({
      status: 'ISSUED',
      referenceNo: expect.stringMatching(/^INV-\d$/),
      expiredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
      qrUrl: expect.stringContaining('/payment/payout/link/qr/'),
      paymentModes: ['ACCOUNT', 'VPA'],
    });
  });

  it.each([
    ['TUP', UpstreamUnavailableError],
    ['IAC', UpstreamCredentialsError],
    ['RPI', UpstreamIntegrationError],
  ])('classifies statuscode %s on a List call', async (statuscode, type) => {
    const { client } = await clientWith(good);
    await fault({ kind: 'statuscode', value: statuscode });
    await expect(
      client.listLinks({ statuses: ['ISSUED'], pageNumber: 1, recordsPerPage: 10 }),
    ).rejects.toBeInstanceOf(type);
  });

  it('refetches rotated credentials once on a List call too', async () => {
    const { client, secretName, calls } = await clientWith({ ...good, clientSecret: 'stale-secret' });
    const query = { statuses: ['PROCESSING'], pageNumber: 1, recordsPerPage: 10 };
    await expect(client.listLinks(query)).rejects.toBeInstanceOf(UpstreamCredentialsError);
    expect(calls.get('GetSecretValueCommand')).toBe(2);
    await putSecret(clients, secretName, { ...good, baseUrl: sandbox.url });
    await expect(client.listLinks(query)).resolves.toMatchObject({ received: 0 });
    expect(calls.get('GetSecretValueCommand')).toBe(3);
  });
});

describe('InstantPay client connections', () => {
  let server: Server;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({ statuscode: 'TXN', status: 'ok', data: { status: 'ISSUED', amount: 1 } }),
      );
    });
    server.on('connection', () => {
      connections++;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('keeps its connection alive and reuses it across calls', async () => {
    const { port } = server.address() as AddressInfo;
    const { client } = await clientWith({ ...good, baseUrl: `http://127.0.0.1:${port}` });
    // The fetch pool settles on its connection within the first two calls.
    await client.trackLink('abc');
    await client.trackLink('abc');
    const warm = connections;
    for (let i = 0; i < 10; i++) await client.trackLink('abc');
    expect(warm).toBeLessThanOrEqual(2);
    expect(connections).toBe(warm);
  });
});
