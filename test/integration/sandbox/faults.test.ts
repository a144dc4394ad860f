import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { SAMPLE_LINK_ID, type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import { control, track, upstreamPost } from './sandbox-client.ts';

describe('sandbox faults over HTTP', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ clock: new ManualClock() });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  afterEach(() => {
    sandbox.reset();
  });

  it('delays the real answer by the latency', async () => {
    sandbox.addFault({ kind: 'latency', value: 150 });
    const started = performance.now();
    const response = await track(sandbox.url, SAMPLE_LINK_ID);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(((await response.json()) as { statuscode: string }).statuscode).toBe('TXN');
  });

  it('answers the given HTTP status with a short non-envelope body', async () => {
    sandbox.addFault({ kind: 'http-status', value: 502, count: 1 });
    const response = await track(sandbox.url, SAMPLE_LINK_ID);
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(response.headers.get('retry-after')).toBeNull();
    expect(await response.text()).toBe('502 Bad Gateway');
  });

  it.each([429, 503])('adds Retry-After: 1 to an HTTP %i', async (status) => {
    sandbox.addFault({ kind: 'http-status', value: status });
    const response = await track(sandbox.url, SAMPLE_LINK_ID);
    expect(response.status).toBe(status);
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('answers HTTP 500 when no status is given', async () => {
    sandbox.addFault({ kind: 'http-status' });
    expect((await track(sandbox.url, SAMPLE_LINK_ID)).status).toBe(500);
  });

  it('holds a timed-out request longer than the client waits', async () => {
    sandbox.addFault({ kind: 'timeout', value: 300 });
    await expect(
      track(sandbox.url, SAMPLE_LINK_ID, { signal: AbortSignal.timeout(100) }),
    ).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });

  it('drops the connection without an answer once the timeout has passed', async () => {
    sandbox.addFault({ kind: 'timeout', value: 50 });
    const started = performance.now();
    await expect(track(sandbox.url, SAMPLE_LINK_ID, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow(
      'fetch failed',
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('answers HTTP 200 with a body that is not JSON', async () => {
    sandbox.addFault({ kind: 'malformed' });
    const response = await track(sandbox.url, SAMPLE_LINK_ID);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('<html>Bad Gateway</html>');
  });

  it.each([
    ['TUP', 'Transaction Under Process'],
    ['SPD', 'Service Provider Downtime'],
    ['IAC', 'Invalid Dealer Credentials'],
    ['ZZZ', 'Unknown error'],
  ])('answers an envelope with statuscode %s', async (code, status) => {
    sandbox.addFault({ kind: 'statuscode', value: code });
    const response = await track(sandbox.url, SAMPLE_LINK_ID);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      statuscode: code,
      status,
      data: null,
      environment: 'SANDBOX',
    });
  });

  it('applies a counted fault to that many requests only', async () => {
    sandbox.addFault({ kind: 'statuscode', value: 'TUP', count: 2 });
    const codes = [];
    for (let i = 0; i < 3; i++) {
      codes.push(
        ((await (await track(sandbox.url, SAMPLE_LINK_ID)).json()) as { statuscode: string }).statuscode,
      );
    }
    expect(codes).toEqual(['TUP', 'TUP', 'TXN']);
  });

  it('limits a fault to the link it names, including cancel calls about it', async () => {
    const linkId = sandbox.createLink({ amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    sandbox.addFault({ kind: 'http-status', value: 503, linkId });
    expect((await track(sandbox.url, SAMPLE_LINK_ID)).status).toBe(200);
    expect((await track(sandbox.url, linkId)).status).toBe(503);
    const cancel = await fetch(`${sandbox.url}/payments/payout/link/cancel`, {
      method: 'POST',
      body: JSON.stringify({ linkId }),
    });
    expect(cancel.status).toBe(503);
  });

  it('applies to the other upstream endpoints too', async () => {
    sandbox.addFault({ kind: 'statuscode', value: 'SNA', count: 1 });
    const created = await upstreamPost(sandbox.url, '/payments/payout/link/create', { amount: '10' });
    expect(created.json).toMatchObject({ statuscode: 'SNA' });
  });

  it('composes latency with another fault', async () => {
    await control(sandbox.url, 'POST', '/sandbox/faults', { kind: 'latency', value: 100 });
    await control(sandbox.url, 'POST', '/sandbox/faults', { kind: 'malformed' });
    const started = performance.now();
    const response = await track(sandbox.url, SAMPLE_LINK_ID);
    expect(await response.text()).toBe('<html>Bad Gateway</html>');
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('never applies a fault with probability 0 and always one with probability 1', async () => {
    sandbox.addFault({ kind: 'statuscode', value: 'ISE', probability: 0 });
    expect(
      ((await (await track(sandbox.url, SAMPLE_LINK_ID)).json()) as { statuscode: string }).statuscode,
    ).toBe('TXN');
    sandbox.addFault({ kind: 'statuscode', value: 'IPE', probability: 1 });
    expect(
      ((await (await track(sandbox.url, SAMPLE_LINK_ID)).json()) as { statuscode: string }).statuscode,
    ).toBe('IPE');
  });
});

describe('sandbox close', () => {
  it('finishes fast while a request is held by a timeout fault', async () => {
    const sandbox = await startSandbox();
    sandbox.addFault({ kind: 'timeout', value: 60_000 });
    const held = track(sandbox.url, SAMPLE_LINK_ID).then(
      () => 'answered',
      () => 'failed',
    );
    while (sandbox.stats().total === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    const started = performance.now();
    await sandbox.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await held).toBe('failed');
  });

  it('finishes fast while a request is delayed by latency', async () => {
    const sandbox = await startSandbox();
    sandbox.addFault({ kind: 'latency', value: 60_000 });
    const held = track(sandbox.url, SAMPLE_LINK_ID).then(
      () => 'answered',
      () => 'failed',
    );
    while (sandbox.stats().total === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    const started = performance.now();
    await sandbox.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await held).toBe('failed');
  });
});
