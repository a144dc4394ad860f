import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_LINK_ID } from '#infra/sandbox/server.ts';
import { type ApiResponse, trackerFixture } from '#test/support/tracker-fixture.ts';

let world: Awaited<ReturnType<typeof trackerFixture>>;

beforeAll(async () => {
  world = await trackerFixture();
});
afterAll(async () => {
  await world.close();
});
afterEach(async () => {
  await fetch(`${world.sandbox.url}/sandbox/faults`, { method: 'DELETE' });
});

async function fault(body: Record<string, unknown>) {
  const response = await fetch(`${world.sandbox.url}/sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}

function expectProblem(response: ApiResponse, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toBe('application/problem+json');
  expect(response.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(typeof response.body.detail).toBe('string');
  expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts:\d+|Error:|<html>/);
}

describe('the API maps every failure as the contract says (faults from the sandbox)', () => {
  it('answers 400 for an invalid link id and never calls InstantPay', async () => {
    const before = world.sandbox.stats().total;
    for (const path of [
      '/links/has%20space',
      `/links/${'a'.repeat(65)}`,
      '/links/%2E%2E',
      '/links/a.b/events',
    ]) {
      expectProblem(await world.call('GET', path), 400);
    }
    expectProblem(await world.call('POST', '/links', { body: { linkId: 'no/slash' } }), 400);
    expect(world.sandbox.stats().total).toBe(before);
  });

  it('answers 404 for a link InstantPay does not know, with its id', async () => {
    const response = await world.call('GET', '/links/0123456789abcdef01234567');
    expectProblem(response, 404);
    expect(response.body.linkId).toBe('0123456789abcdef01234567');
  });

  it('answers 502 with a clear title when InstantPay rejects the credentials', async () => {
    await fault({ kind: 'statuscode', value: 'IAC' });
    const response = await world.call('GET', `/links/${SAMPLE_LINK_ID}`);
    expectProblem(response, 502);
    expect(response.body.title).toMatch(/credentials/i);
  });

  it.each([
    ['an unknown statuscode', { kind: 'statuscode', value: 'ZZZ' }],
    ['a body that is not JSON', { kind: 'malformed' }],
    ['another request error', { kind: 'http-status', value: 418 }],
  ])('answers 502 for %s', async (_name, body) => {
    await fault(body);
    expectProblem(await world.call('GET', `/links/${SAMPLE_LINK_ID}`), 502);
  });

  it.each([
    ['HTTP 500', { kind: 'http-status', value: 500 }],
    ['HTTP 429', { kind: 'http-status', value: 429 }],
    ['TUP (under process)', { kind: 'statuscode', value: 'TUP' }],
    ['SPD (downtime)', { kind: 'statuscode', value: 'SPD' }],
    ['a timeout', { kind: 'timeout', value: 3_000 }],
  ])('answers 503 with Retry-After for %s', async (_name, body) => {
    await fault(body);
    const response = await world.call('GET', `/links/${SAMPLE_LINK_ID}`);
    expectProblem(response, 503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('never changes the stored status on a failed check', async () => {
    const linkId = world.sandbox.createLink({ amount: 3, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    const first = await world.call('GET', `/links/${linkId}`);
    for (const body of [
      { kind: 'statuscode', value: 'TUP' },
      { kind: 'malformed' },
      { kind: 'http-status', value: 500 },
    ]) {
      await fault({ ...body, count: 1 });
      expect((await world.call('GET', `/links/${linkId}`)).status).toBeGreaterThanOrEqual(500);
    }
    const stored = await world.store.getLink(linkId);
    expect(stored).toMatchObject({
      status: 'ISSUED',
      sequence: 1,
      version: first.body.sequence === 1 ? 1 : -1,
    });
  });

  it('registers a link while InstantPay is down, answers 503, and keeps it watched', async () => {
    const linkId = world.sandbox.createLink({ amount: 3, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    await fault({ kind: 'http-status', value: 503, linkId });
    const response = await world.call('POST', '/links', { body: { linkId, reference: 'R-1' } });
    expectProblem(response, 503);
    const stored = await world.store.getLink(linkId);
    expect(stored).toMatchObject({ status: null, reference: 'R-1', consecutiveErrors: 1 });
    expect(stored?.nextCheckAt).not.toBeNull();
  });

  it('answers 404 for unknown routes and 405 with Allow for wrong methods', async () => {
    expectProblem(await world.call('GET', '/nope'), 404);
    expectProblem(await world.call('GET', '/links/abc/history'), 404);
    const put = await world.call('PUT', '/links/abc');
    expectProblem(put, 405);
    expect(put.headers.allow).toBe('GET, DELETE');
    expectProblem(await world.call('DELETE', '/links'), 405);
    expectProblem(await world.call('POST', '/links/abc/events'), 405);
  });

  it('answers 404 for the events or DELETE of a link it never tracked', async () => {
    expectProblem(await world.call('GET', '/links/never-seen/events'), 404);
    expectProblem(await world.call('DELETE', '/links/never-seen'), 404);
  });

  it('answers 400 for bad bodies and queries, naming the field', async () => {
    const cases = [
      await world.call('POST', '/links', { rawBody: '{not json' }),
      await world.call('POST', '/links', { body: { linkId: 'abc', surprise: true } }),
      await world.call('POST', '/links', { body: { linkId: 'abc', expiresAt: 'tomorrow' } }),
      await world.call('POST', '/links', { rawBody: Buffer.from([0xff, 0xfe, 0x00]) }),
      await world.call('POST', '/links', { body: { linkId: 'abc', reference: 'x'.repeat(20_000) } }),
      await world.call('POST', '/links'),
      await world.call('GET', '/links', { query: 'state=lost' }),
      await world.call('GET', '/links', { query: 'limit=1000' }),
      await world.call('GET', '/links', { query: 'cursor=bm90LWEtY3Vyc29y' }),
      await world.call('GET', `/links/${SAMPLE_LINK_ID}`, { query: 'maxAgeSeconds=-1' }),
    ];
    for (const response of cases) expectProblem(response, 400);
    expect(cases[2]?.body.errors.join()).toContain('expiresAt');
  });
});
