import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { ACTIVITY_ADDED, STATUS_CHANGED } from '#shared/link/link-event.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

const START = Date.parse('2026-11-25T10:00:00Z');
const clock = new ManualClock(START);
let world: Awaited<ReturnType<typeof trackerFixture>>;

beforeAll(async () => {
  world = await trackerFixture({ clock });
});
afterAll(async () => {
  await world.close();
});

describe('tracking a link through its lifecycle (handler, emulator, sandbox)', () => {
  it('records ISSUED -> PROCESSING -> CLAIMED as three status changes, masked, in order', async () => {
    const linkId = world.sandbox.createLink({
      amount: 250,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 2_000, status: 'PROCESSING' },
        { afterMs: 4_000, status: 'CLAIMED' },
      ],
    });

    const first = await world.call('GET', `/links/${linkId}`);
    clock.advance(2_000);
    const second = await world.call('GET', `/links/${linkId}`);
    clock.advance(2_000);
    const third = await world.call('GET', `/links/${linkId}`);

    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    expect(third.body).toMatchObject({
      linkId,
      status: 'CLAIMED',
      final: true,
      sequence: 3,
      nextCheckAt: null,
    });

    const events = await world.receiveEvents(3);
    expect(events).toHaveLength(3);
    const details = events.map((event) => event.detail).sort((a, b) => a.sequence - b.sequence);
    expect(events.every((event) => event['detail-type'] === STATUS_CHANGED)).toBe(true);
    expect(details.map((d) => [d.sequence, d.previousStatus, d.status])).toEqual([
      [1, null, 'ISSUED'],
      [2, 'ISSUED', 'PROCESSING'],
      [3, 'PROCESSING', 'CLAIMED'],
    ]);
    expect(new Set(details.map((d) => d.eventId)).size).toBe(3);

    const published = JSON.stringify(details);
    expect(published).not.toMatch(/\b\d{16}\b/);
    expect(published).toMatch(/XXXXXXXXXXXX\d{4}/);
    expect(details[0]).toMatchObject({ trigger: 'on-demand', stage: 'test', final: false, amount: 250 });

    const history = await world.call('GET', `/links/${linkId}/events`);
    expect(history.status).toBe(200);
    expect(history.body.linkId).toBe(linkId);
    expect(history.body.events.map((e: { eventId: string }) => e.eventId)).toEqual(
      details.map((d) => d.eventId),
    );
    expect(history.body.events.every((e: { publishedAt: string | null }) => e.publishedAt !== null)).toBe(
      true,
    );
    expect(history.body.events[1]).toMatchObject({ detailType: STATUS_CHANGED, previousStatus: 'ISSUED' });
  });

  it('answers an unchanged link from one conditional write and publishes nothing', async () => {
    const linkId = world.sandbox.createLink({ amount: 10, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    await world.call('GET', `/links/${linkId}`);
    await world.receiveEvents(1);
    clock.advance(1_000);

    const again = await world.call('GET', `/links/${linkId}`);
    expect(again.body).toMatchObject({ status: 'ISSUED', sequence: 1, checks: 2 });
    expect(Date.parse(again.body.nextCheckAt)).toBeGreaterThan(clock.now());
    expect(await world.receiveEvents(0, 500)).toEqual([]);
  });

  it('publishes new activity without a status change as an activity event', async () => {
    const linkId = world.sandbox.createLink({
      amount: 10,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        {
          afterMs: 1_000,
          status: 'ISSUED',
          activity: [{ status: 'Payout link notification sent to 9876543210' }],
        },
      ],
    });
    await world.call('GET', `/links/${linkId}`);
    clock.advance(1_000);
    await world.call('GET', `/links/${linkId}`);
    const events = (await world.receiveEvents(2)).sort((a, b) => a.detail.sequence - b.detail.sequence);
    expect(events.map((e) => e['detail-type'])).toEqual([STATUS_CHANGED, ACTIVITY_ADDED]);
    expect(events[1]?.detail).toMatchObject({ previousStatus: 'ISSUED', status: 'ISSUED', sequence: 2 });
    expect(JSON.stringify(events[1]?.detail.activity)).toContain('98XXXXXX10');
  });

  it('records PROCESSING -> ISSUED (a failed claim) as a change', async () => {
    const linkId = world.sandbox.createLink({
      amount: 10,
      timeline: [
        { afterMs: 0, status: 'PROCESSING' },
        { afterMs: 1_000, status: 'ISSUED' },
      ],
    });
    await world.call('GET', `/links/${linkId}`);
    clock.advance(1_000);
    const view = await world.call('GET', `/links/${linkId}`);
    expect(view.body).toMatchObject({ status: 'ISSUED', sequence: 2, final: false });
    const events = (await world.receiveEvents(2)).sort((a, b) => a.detail.sequence - b.detail.sequence);
    expect(events[1]?.detail).toMatchObject({ previousStatus: 'PROCESSING', status: 'ISSUED' });
  });

  it('registers a link with its reference and metadata, 201 then 200, and carries them in events', async () => {
    const linkId = world.sandbox.createLink({ amount: 99, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    const body = {
      linkId,
      reference: 'INV-42',
      metadata: { customer: 'c-1' },
      expiresAt: '2026-12-01T00:00:00Z',
    };
    const created = await world.call('POST', '/links', { body });
    const again = await world.call('POST', '/links', { body });
    expect(created.status).toBe(201);
    expect(again.status).toBe(200);
    expect(created.body).toMatchObject({
      linkId,
      status: 'ISSUED',
      reference: 'INV-42',
      metadata: { customer: 'c-1' },
    });
    expect(again.body.sequence).toBe(1);
    const [event] = await world.receiveEvents(1);
    expect(event?.detail).toMatchObject({ reference: 'INV-42', metadata: { customer: 'c-1' }, sequence: 1 });
  });

  it('stops watching on DELETE, keeps the history, and lists links by state', async () => {
    const linkId = world.sandbox.createLink({ amount: 5, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    await world.call('POST', '/links', { body: { linkId } });
    await world.receiveEvents(1);

    const watching = await world.call('GET', '/links', { query: 'state=watching&limit=100' });
    expect(watching.body.links.map((l: { linkId: string }) => l.linkId)).toContain(linkId);

    const deleted = await world.call('DELETE', `/links/${linkId}`);
    expect(deleted.status).toBe(204);
    const idle = await world.call('GET', '/links', { query: 'state=idle' });
    expect(idle.body.links.map((l: { linkId: string }) => l.linkId)).toContain(linkId);
    const history = await world.call('GET', `/links/${linkId}/events`);
    expect(history.body.events).toHaveLength(1);

    for (let i = 0; i < 2; i++) {
      const cancelled = world.sandbox.createLink({
        amount: 1,
        timeline: [{ afterMs: 0, status: 'CANCELLED' }],
      });
      await world.call('GET', `/links/${cancelled}`);
    }
    await world.receiveEvents(2);
    const final = await world.call('GET', '/links', { query: 'state=final&limit=1' });
    expect(final.status).toBe(200);
    expect(final.body.links).toHaveLength(1);
    expect(typeof final.body.nextCursor).toBe('string');
    const next = await world.call('GET', '/links', {
      query: `state=final&limit=1&cursor=${encodeURIComponent(final.body.nextCursor)}`,
    });
    expect(next.status).toBe(200);
    expect(next.body.links[0]?.linkId).not.toBe(final.body.links[0]?.linkId);
  });

  it('serves a fresh enough stored state without calling InstantPay when maxAgeSeconds allows', async () => {
    const linkId = world.sandbox.createLink({ amount: 5, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    await world.call('GET', `/links/${linkId}`);
    const before = world.sandbox.stats().trackCalls[linkId];
    const cached = await world.call('GET', `/links/${linkId}`, { query: 'maxAgeSeconds=60' });
    expect(cached.status).toBe(200);
    expect(world.sandbox.stats().trackCalls[linkId]).toBe(before);
    clock.advance(61_000);
    await world.call('GET', `/links/${linkId}`, { query: 'maxAgeSeconds=60' });
    expect(world.sandbox.stats().trackCalls[linkId]).toBe((before ?? 0) + 1);
    await world.receiveEvents(1);
  });
});
