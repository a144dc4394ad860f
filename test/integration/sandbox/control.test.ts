import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import {
  SAMPLE_LINK_ID,
  type Sandbox,
  SandboxConflictError,
  SandboxInputError,
  startSandbox,
} from '#infra/sandbox/server.ts';
import { formatIst, parseIst } from '#shared/instantpay/ist-time.ts';
import { control, track } from './sandbox-client.ts';

const START = parseIst('2024-07-01 12:00:00') as number;

async function trackedData(sandbox: Sandbox, linkId: string) {
  const body = (await (await track(sandbox.url, linkId)).json()) as {
    statuscode: string;
    data: { status: string; amount: number; linkActivity: Array<Record<string, unknown>> } | null;
  };
  return body;
}

describe('sandbox control API', () => {
  let sandbox: Sandbox;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(START);
    sandbox = await startSandbox({ clock });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    sandbox.reset();
  });

  it('exposes its address without a trailing slash', () => {
    expect(sandbox.url).toBe(`http://127.0.0.1:${sandbox.port}`);
    expect(sandbox.clock).toBe(clock);
  });

  it('creates a scripted link with 201 and plays its timeline as the clock moves', async () => {
    const created = await control(sandbox.url, 'POST', '/sandbox/links', {
      amount: 42.5,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 1_000, status: 'PROCESSING', activity: [{ status: 'Claim started' }] },
        { afterMs: 2_000, status: 'WEIRD' },
      ],
    });
    expect(created.status).toBe(201);
    const linkId = created.json?.linkId as string;
    expect(linkId).toMatch(/^[0-9a-f]{24}$/);

    expect((await trackedData(sandbox, linkId)).data?.status).toBe('ISSUED');
    clock.advance(1_000);
    expect((await trackedData(sandbox, linkId)).data?.linkActivity.at(-1)).toEqual({
      status: 'Claim started',
      activityAt: formatIst(START + 1_000),
    });
    clock.advance(1_000);
    const weird = await trackedData(sandbox, linkId);
    expect(weird.data).toMatchObject({ status: 'WEIRD', amount: 42.5 });
    expect(weird.data?.linkActivity).toHaveLength(4);
  });

  it('keeps a given link id and answers 409 when it is taken', async () => {
    const body = { linkId: 'my-link_1', amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] };
    expect(await control(sandbox.url, 'POST', '/sandbox/links', body)).toMatchObject({
      status: 201,
      json: { linkId: 'my-link_1' },
    });
    const conflict = await control(sandbox.url, 'POST', '/sandbox/links', body);
    expect(conflict.status).toBe(409);
    expect(conflict.contentType).toBe('application/problem+json');
    expect(conflict.json).toMatchObject({ type: 'about:blank', title: 'Conflict', status: 409 });
    expect(() => sandbox.createLink(body)).toThrow(SandboxConflictError);
    const sample = await control(sandbox.url, 'POST', '/sandbox/links', { ...body, linkId: SAMPLE_LINK_ID });
    expect(sample.status).toBe(409);
  });

  it.each([
    ['an empty timeline', { amount: 1, timeline: [] }],
    ['a negative afterMs', { amount: 1, timeline: [{ afterMs: -1, status: 'ISSUED' }] }],
    ['a fractional afterMs', { amount: 1, timeline: [{ afterMs: 1.5, status: 'ISSUED' }] }],
    ['a missing status', { amount: 1, timeline: [{ afterMs: 0 }] }],
    ['a missing amount', { timeline: [{ afterMs: 0, status: 'ISSUED' }] }],
    ['an invalid link id', { linkId: 'no spaces', amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] }],
    ['an unknown field', { amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }], colour: 'red' }],
    ['a body that is not JSON', '{amount: 1'],
  ])('answers 400 problem+json to a scripted link with %s', async (_, body) => {
    const response = await control(sandbox.url, 'POST', '/sandbox/links', body);
    expect(response.status).toBe(400);
    expect(response.contentType).toBe('application/problem+json');
    expect(response.json).toMatchObject({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: expect.any(String),
    });
    if (typeof body !== 'string') {
      expect(() => sandbox.createLink(body as Parameters<Sandbox['createLink']>[0])).toThrow(
        SandboxInputError,
      );
    }
  });

  it('answers 201 with a fault id, 400 to an invalid fault and 204 to clearing faults', async () => {
    const added = await control(sandbox.url, 'POST', '/sandbox/faults', { kind: 'statuscode', value: 'TUP' });
    expect(added.status).toBe(201);
    expect(added.json?.faultId).toEqual(expect.any(String));
    expect((await trackedData(sandbox, SAMPLE_LINK_ID)).statuscode).toBe('TUP');

    const invalid = await control(sandbox.url, 'POST', '/sandbox/faults', { kind: 'meteor' });
    expect(invalid).toMatchObject({ status: 400, contentType: 'application/problem+json' });

    expect((await control(sandbox.url, 'DELETE', '/sandbox/faults')).status).toBe(204);
    expect((await trackedData(sandbox, SAMPLE_LINK_ID)).statuscode).toBe('TXN');
  });

  it('counts every track call by the id as received, and every list call, before credentials and faults', async () => {
    sandbox.addFault({ kind: 'http-status', value: 500, count: 1 });
    await track(sandbox.url, SAMPLE_LINK_ID); // faulted
    await track(sandbox.url, SAMPLE_LINK_ID);
    await fetch(`${sandbox.url}/payments/payout/link/track/${SAMPLE_LINK_ID}`); // no credentials
    await track(sandbox.url, 'unknown id'); // encoded on the wire, counted decoded
    await fetch(`${sandbox.url}/payments/payout/link/list`); // a list call, not a track call

    const stats = await control(sandbox.url, 'GET', '/sandbox/stats');
    expect(stats.status).toBe(200);
    expect(stats.json).toEqual({
      trackCalls: { [SAMPLE_LINK_ID]: 3, 'unknown id': 1 },
      total: 4,
      listCalls: 1,
    });
    expect(sandbox.stats()).toEqual(stats.json);
  });

  it('resets links created since start, faults and stats, but keeps the sample link', async () => {
    const linkId = sandbox.createLink({ amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    sandbox.addFault({ kind: 'statuscode', value: 'SPD', linkId: 'elsewhere' });
    await track(sandbox.url, linkId);

    expect((await control(sandbox.url, 'POST', '/sandbox/reset')).status).toBe(204);

    expect(sandbox.stats()).toEqual({ trackCalls: {}, total: 0, listCalls: 0 });
    expect((await trackedData(sandbox, linkId)).statuscode).toBe('ITI');
    expect((await trackedData(sandbox, SAMPLE_LINK_ID)).data?.status).toBe('CLAIMED');
    expect((await control(sandbox.url, 'GET', '/sandbox/faults')).json).toEqual({ faults: [] });
  });

  it('advances a manual clock over HTTP', async () => {
    const moved = await control(sandbox.url, 'POST', '/sandbox/clock', { advanceMs: 1_500 });
    expect(moved.status).toBe(200);
    expect(moved.json).toEqual({ now: clock.now(), time: formatIst(clock.now()) });
    expect((await control(sandbox.url, 'POST', '/sandbox/clock', { advanceMs: -1 })).status).toBe(400);
  });

  it('answers 404 problem+json to an unknown control path', async () => {
    const response = await control(sandbox.url, 'GET', '/sandbox/nothing');
    expect(response).toMatchObject({ status: 404, contentType: 'application/problem+json' });
  });
});

describe('sandbox on the system clock', () => {
  let sandbox: Sandbox | undefined;

  afterEach(async () => {
    await sandbox?.close();
  });

  it('refuses to advance the clock with 409', async () => {
    sandbox = await startSandbox();
    const response = await control(sandbox.url, 'POST', '/sandbox/clock', { advanceMs: 1 });
    expect(response).toMatchObject({ status: 409, contentType: 'application/problem+json' });
  });

  it('closes quickly even with a keep-alive connection open', async () => {
    sandbox = await startSandbox();
    await fetch(`${sandbox.url}/sandbox/stats`, { headers: { Connection: 'keep-alive' } });
    const started = Date.now();
    await sandbox.close();
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('rejects an invalid default timeline at start', async () => {
    await expect(startSandbox({ defaultTimeline: [] })).rejects.toThrow(SandboxInputError);
  });
});
