import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '#functions/track-link/app.ts';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { instantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import { createInstantPayClient, type InstantPayClient } from '#shared/instantpay/client.ts';
import { UpstreamUnavailableError } from '#shared/instantpay/errors.ts';
import type { EmfMetric, EmfWriter } from '#shared/observability/emf.ts';
import { runRecheck } from '#shared/recheck/recheck-run.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { LinkRequests } from '#shared/tracker/link-requests.ts';
import { captureLog } from '#test/support/capture-log.ts';
import { recheckOptions } from '#test/support/recheck-options.ts';
import { apiCaller, trackerFixture } from '#test/support/tracker-fixture.ts';

const START = Date.parse('2026-12-03T10:00:00Z');
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
const clock = new ManualClock(START);
const metricLines: EmfMetric[][] = [];
const metrics: EmfWriter = { publish: (written) => void metricLines.push([...written]) };
let world: Awaited<ReturnType<typeof trackerFixture>>;

beforeAll(async () => {
  world = await trackerFixture({
    clock,
    env: { UPSTREAM_TIMEOUT_MS: '5000' },
    trackerOverrides: { metrics },
  });
});
afterAll(async () => {
  await world.close();
});

/**
 * A second tracker and API on the same table whose InstantPay answers are held after they arrive,
 * until `release()`: a check in flight, deterministically, while other requests go on.
 */
function heldTracker() {
  const real = createInstantPayClient({
    credentials: instantPayCredentials({ secretName: world.names.secret }),
    clock,
  });
  let answered!: () => void;
  const called = new Promise<void>((resolve) => {
    answered = resolve;
  });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const upstream: Pick<InstantPayClient, 'trackLink'> = {
    async trackLink(linkId) {
      const observation = await real.trackLink(linkId);
      answered();
      await gate;
      return observation;
    },
  };
  const log = captureLog();
  const tracker = createTracker(world.config, { clock, upstream, log: log.logger, random: () => 0.5 });
  const requests = new LinkRequests({ tracker, store: world.store, queries: world.queries });
  return { tracker, call: apiCaller(createApi(requests, log.logger)), called, release, log };
}

describe('the guarantees hold at the edges (API, schedule, emulator, sandbox)', () => {
  it('a final status is final: ISSUED after CLAIMED records nothing, keeps CLAIMED, and is logged and counted', async () => {
    const linkId = world.sandbox.createLink({
      amount: 75,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 1 * SECOND, status: 'CLAIMED' },
        // A lagging replica answers the old status, then the right one again.
        { afterMs: 2 * SECOND, status: 'ISSUED' },
        { afterMs: 3 * SECOND, status: 'CLAIMED' },
      ],
    });
    const views = [];
    for (let step = 0; step < 4; step++) {
      views.push(await world.call('GET', `/links/${linkId}`));
      // Once final, a GET answers from the table; a registration still asks InstantPay.
      if (step === 2) expect((await world.call('POST', '/links', { body: { linkId } })).status).toBe(200);
      clock.advance(SECOND);
    }

    expect(views.map((view) => [view.status, view.body.status, view.body.final, view.body.sequence])).toEqual(
      [
        [200, 'ISSUED', false, 1],
        [200, 'CLAIMED', true, 2],
        [200, 'CLAIMED', true, 2],
        [200, 'CLAIMED', true, 2],
      ],
    );
    // Two GETs before the link was final and the registration asked InstantPay; the final GETs did not.
    expect(world.sandbox.stats().trackCalls[linkId]).toBe(3);
    const history = await world.call('GET', `/links/${linkId}/events`);
    expect(history.body.events.map((e: { status: string }) => e.status)).toEqual(['ISSUED', 'CLAIMED']);
    const published = await world.receiveEvents(2);
    expect(published.filter((event) => event.detail.linkId === linkId).map((e) => e.detail.status)).toEqual([
      'ISSUED',
      'CLAIMED',
    ]);
    const warned = world.log.lines.filter(
      (line) => line.message.includes('final link') && JSON.stringify(line.attributes).includes(linkId),
    );
    expect(warned).toHaveLength(1);
    expect(warned[0]!.attributes[0]).toMatchObject({ recordedStatus: 'CLAIMED', observedStatus: 'ISSUED' });
    expect(metricLines.flat().filter((metric) => metric.name === 'UpstreamFinalConflicts')).toEqual([
      { name: 'UpstreamFinalConflicts', unit: 'Count', values: [1] },
    ]);
  });

  it('a registration racing a check that started after it is stored, not only answered', async () => {
    const linkId = world.sandbox.createLink({ amount: 90, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    const first = await world.call('POST', '/links', { body: { linkId, reference: 'INV-1' } });
    expect(first.status).toBe(201);
    const held = heldTracker();
    const expiresAt = new Date(START + 30 * DAY).toISOString();

    const registration = held.call('POST', '/links', {
      body: { linkId, reference: 'INV-2', metadata: { order: 'o-7' }, expiresAt },
    });
    await held.called;
    clock.advance(SECOND);
    // A check that started after the registration's observation records first.
    expect((await world.call('GET', `/links/${linkId}`)).status).toBe(200);
    held.release();
    const answered = await registration;

    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ reference: 'INV-2', metadata: { order: 'o-7' } });
    const stored = await world.store.getLink(linkId);
    expect(stored).toMatchObject({
      reference: 'INV-2',
      metadata: { order: 'o-7' },
      expiresAt: Date.parse(expiresAt),
    });
    // The expiry bounds the watch: the link is not watched past expiresAt plus its grace.
    expect(stored!.nextCheckAt).not.toBeNull();
    expect(stored!.nextCheckAt!).toBeLessThanOrEqual(Date.parse(expiresAt) + MINUTE);
  });

  it('a registration of a link already final stores its new fields', async () => {
    const linkId = world.sandbox.createLink({ amount: 12, timeline: [{ afterMs: 0, status: 'CANCELLED' }] });
    expect((await world.call('POST', '/links', { body: { linkId } })).status).toBe(201);

    const again = await world.call('POST', '/links', { body: { linkId, reference: 'late-ref' } });

    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'CANCELLED', reference: 'late-ref', nextCheckAt: null });
    expect(await world.store.getLink(linkId)).toMatchObject({
      reference: 'late-ref',
      nextCheckAt: null,
    });
  });

  it('DELETE is not undone by a scheduled check in flight that sees a change', async () => {
    const linkId = world.sandbox.createLink({
      amount: 40,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 1 * MINUTE, status: 'PROCESSING' },
      ],
    });
    expect((await world.call('POST', '/links', { body: { linkId } })).status).toBe(201);
    clock.advance(2 * MINUTE);
    const held = heldTracker();

    const run = runRecheck({ tracker: held.tracker, store: world.sweep }, recheckOptions());
    await held.called;
    expect((await world.call('DELETE', `/links/${linkId}`)).status).toBe(204);
    held.release();
    const summary = await run;

    expect(summary.transitionsRecorded).toBeGreaterThanOrEqual(1);
    const stored = await world.store.getLink(linkId);
    // The change it saw is history; watching stays off, and says why.
    expect(stored).toMatchObject({
      status: 'PROCESSING',
      nextCheckAt: null,
      watchEnded: { reason: 'unwatched' },
    });
    const watching = await world.call('GET', '/links', { query: 'state=watching&limit=100' });
    expect(watching.body.links.map((link: { linkId: string }) => link.linkId)).not.toContain(linkId);
  });

  it('DELETE is not undone by a scheduled check in flight that sees nothing new', async () => {
    const linkId = world.sandbox.createLink({ amount: 41, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    expect((await world.call('POST', '/links', { body: { linkId } })).status).toBe(201);
    clock.advance(2 * MINUTE);
    const held = heldTracker();

    const run = runRecheck({ tracker: held.tracker, store: world.sweep }, recheckOptions());
    await held.called;
    expect((await world.call('DELETE', `/links/${linkId}`)).status).toBe(204);
    held.release();
    const summary = await run;

    expect(summary).toMatchObject({ transitionsRecorded: 0, otherErrors: 0 });
    expect(await world.store.getLink(linkId)).toMatchObject({
      status: 'ISSUED',
      nextCheckAt: null,
      watchEnded: { reason: 'unwatched' },
    });
  });

  it('a link InstantPay never knows stops being watched after 7 days of such answers, visibly', async () => {
    const linkId = world.sandbox.createLink({ amount: 5, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    expect((await world.call('POST', '/links', { body: { linkId } })).status).toBe(201);
    world.sandbox.addFault({ kind: 'statuscode', value: 'ITI', linkId });

    const outcomes = [];
    for (const jump of [2 * MINUTE, 3 * DAY, 4 * DAY + MINUTE]) {
      clock.advance(jump);
      await runRecheck(
        { tracker: world.tracker, store: world.sweep, log: world.log.logger },
        recheckOptions(),
      );
      outcomes.push(await world.store.getLink(linkId));
    }

    expect(outcomes.map((state) => state?.nextCheckAt === null)).toEqual([false, false, true]);
    expect(outcomes[2]).toMatchObject({
      status: 'ISSUED',
      watchEnded: { reason: 'upstream-errors' },
      lastError: { error: 'LinkNotFoundError', statuscode: 'ITI' },
    });
    const idle = await world.call('GET', '/links', { query: 'state=idle&limit=100' });
    const view = idle.body.links.find((link: { linkId: string }) => link.linkId === linkId);
    expect(view).toMatchObject({
      status: 'ISSUED',
      nextCheckAt: null,
      watchEnded: { reason: 'upstream-errors' },
      lastError: { error: 'LinkNotFoundError', statuscode: 'ITI' },
    });
    expect(world.log.text()).toContain('stopped watching a link that keeps failing upstream');
  });

  it('a link whose checks keep timing out past its expiry stops being watched a day later', async () => {
    const linkId = world.sandbox.createLink({ amount: 6, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    const expiresAt = new Date(clock.now() + 10 * MINUTE).toISOString();
    expect((await world.call('POST', '/links', { body: { linkId, expiresAt } })).status).toBe(201);
    world.sandbox.addFault({ kind: 'http-status', value: 503, linkId });

    const watched = [];
    for (const jump of [20 * MINUTE, 12 * 60 * MINUTE, DAY]) {
      clock.advance(jump);
      await runRecheck(
        { tracker: world.tracker, store: world.sweep, log: world.log.logger },
        recheckOptions(),
      );
      watched.push((await world.store.getLink(linkId))?.nextCheckAt !== null);
    }

    expect(watched).toEqual([true, true, false]);
    expect(await world.store.getLink(linkId)).toMatchObject({
      watchEnded: { reason: 'expired-unreachable' },
    });
  });

  it('a discovered link whose first check failed still has trigger "discovered" on its first change, recorded by a scheduled check', async () => {
    const linkId = world.sandbox.createLink({ amount: 7, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    world.sandbox.addFault({ kind: 'http-status', value: 503, linkId, count: 1 });
    await expect(world.registrations.registerDiscovered(linkId, {})).rejects.toBeInstanceOf(
      UpstreamUnavailableError,
    );
    expect(await world.store.getLink(linkId)).toMatchObject({ status: null, sequence: 0 });

    clock.advance(30 * MINUTE);
    await runRecheck({ tracker: world.tracker, store: world.sweep, log: world.log.logger }, recheckOptions());

    const changes = await world.queries.listChanges(linkId);
    expect(changes.map((change) => [change.detail.status, change.detail.trigger])).toEqual([
      ['ISSUED', 'discovered'],
    ]);
  });

  it('a change the bus refuses for good is quarantined after a few tries; the rest of the outbox goes out', async () => {
    // 2,000 activity entries: its event's JSON (~320 KB) is over EventBridge's 256 KB per entry,
    // forever, while the link's item stays under DynamoDB's 400 KB.
    const activity = Array.from({ length: 2_000 }, (_, index) => ({
      status: `Payout link note ${String(index).padStart(4, '0')} ${'y'.repeat(100)}`,
      activityAt: '2026-12-03 15:30:00',
    }));
    const poison = world.sandbox.createLink({
      amount: 1,
      timeline: [{ afterMs: 0, status: 'ISSUED', activity }],
    });
    const normal = world.sandbox.createLink({
      amount: 2,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 1 * MINUTE, status: 'CANCELLED' },
      ],
    });
    for (const linkId of [poison, normal]) {
      expect((await world.call('POST', '/links', { body: { linkId } })).status).toBe(201);
    }

    const summaries = [];
    for (let run = 0; run < 4; run++) {
      clock.advance(MINUTE);
      summaries.push(
        await runRecheck(
          { tracker: world.tracker, store: world.sweep, log: world.log.logger },
          recheckOptions(),
        ),
      );
    }

    const outbox = await world.sweep.listUnpublished(1_000);
    expect(outbox.map((change) => change.detail.linkId)).not.toContain(poison);
    expect(summaries.at(-1)).toMatchObject({
      outboxBacklog: 0,
      outboxQuarantined: 1,
      oldestUnpublishedAgeSeconds: 0,
    });
    const history = await world.call('GET', `/links/${normal}/events`);
    expect(
      history.body.events.map((e: { status: string; publishedAt: string | null }) => [
        e.status,
        e.publishedAt !== null,
      ]),
    ).toEqual([
      ['ISSUED', true],
      ['CANCELLED', true],
    ]);
    const quarantined = world.log.lines.filter((line) => line.message.startsWith('change quarantined'));
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]!.attributes[0]).toMatchObject({ linkId: poison, errorCode: 'EntryTooLarge' });
  });
});
