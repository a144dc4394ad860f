import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { instantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import { createInstantPayClient, type InstantPayClient } from '#shared/instantpay/client.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

const clock = new ManualClock(Date.parse('2026-11-25T10:00:00Z'));
let world: Awaited<ReturnType<typeof trackerFixture>>;

beforeAll(async () => {
  world = await trackerFixture({ clock });
});
afterAll(async () => {
  await world.close();
});

/** Publishing is at least once: a change may arrive twice, always with its one `eventId`. */
function chainOf(events: Awaited<ReturnType<typeof world.receiveEvents>>) {
  const byId = new Map(events.map((event) => [event.detail.eventId, event.detail]));
  const chain = [...byId.values()].sort((a, b) => a.sequence - b.sequence);
  if (byId.size !== events.length) console.log('duplicate deliveries', events.length - byId.size);
  return chain;
}

describe('concurrent checks of one link', () => {
  it('records exactly one event per real change when 20 requests race while the status flips', async () => {
    const timeline = ['ISSUED', 'PROCESSING', 'ISSUED', 'PROCESSING', 'CLAIMED'];
    const linkId = world.sandbox.createLink({
      amount: 100,
      timeline: timeline.map((status, index) => ({ afterMs: index * 1_000, status })),
    });

    for (let step = 0; step < timeline.length; step++) {
      // Half a second before the flip, then a wave racing it: the clock crosses the flip while
      // its requests are in flight.
      if (step > 0) clock.advance(500);
      const racing = Array.from({ length: 20 }, () => world.call('GET', `/links/${linkId}`));
      setTimeout(() => clock.advance(step === 0 ? 0 : 500), 5);
      const raced = await Promise.all(racing);
      // A settled wave: every request starts after the flip, so the new status is seen.
      const settled = await Promise.all(
        Array.from({ length: 20 }, () => world.call('GET', `/links/${linkId}`)),
      );
      expect([...raced, ...settled].filter((r) => r.status !== 200).map((r) => r.body)).toEqual([]);
    }

    const events = chainOf(await world.receiveEvents(timeline.length));
    expect(events.map((d) => d.status)).toEqual(timeline);
    expect(events.map((d) => d.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(events.map((d) => d.previousStatus)).toEqual([null, ...timeline.slice(0, -1)]);
    expect(new Set(events.map((d) => d.eventId)).size).toBe(timeline.length);

    const history = await world.call('GET', `/links/${linkId}/events`);
    expect(history.body.events.map((e: { sequence: number }) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
  });

  it('answers 201 to exactly one of 10 racing registrations of a new link, 200 to the rest', async () => {
    const linkId = world.sandbox.createLink({ amount: 100, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    const raced = await Promise.all(
      Array.from({ length: 10 }, () =>
        world.call('POST', '/links', { body: { linkId, reference: 'inv-1' } }),
      ),
    );
    expect(raced.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(raced.every((r) => r.body.linkId === linkId && r.body.sequence === 1)).toBe(true);
    expect((await world.call('POST', '/links', { body: { linkId } })).status).toBe(200);
    // One link, one change recorded and published.
    expect(chainOf(await world.receiveEvents(1)).map((d) => [d.linkId, d.status])).toEqual([
      [linkId, 'ISSUED'],
    ]);
  });

  it('ignores a stale observation that arrives after a newer one', async () => {
    const linkId = world.sandbox.createLink({
      amount: 100,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 1_000, status: 'PROCESSING' },
      ],
    });
    await world.call('GET', `/links/${linkId}`);
    clock.advance(1_000);

    // An observation of the old state, held back after InstantPay answered it.
    const real = createInstantPayClient({
      credentials: instantPayCredentials({ secretName: world.names.secret }),
      clock,
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held: Pick<InstantPayClient, 'trackLink'> = {
      async trackLink(id) {
        const observation = await real.trackLink(id);
        await gate;
        return { ...observation, status: 'ISSUED', activity: observation.activity.slice(0, 2) };
      },
    };
    const { createTracker } = await import('#shared/tracker/create-tracker.ts');
    const slowTracker = createTracker(world.config, { clock, upstream: held });
    const stale = slowTracker.check(linkId, { trigger: 'scheduled' });
    await new Promise((resolve) => setTimeout(resolve, 50));

    clock.advance(1);
    const fresh = await world.call('GET', `/links/${linkId}`);
    expect(fresh.body).toMatchObject({ status: 'PROCESSING', sequence: 2 });
    release();
    const result = await stale;

    expect(result.changes).toEqual([]);
    const stored = await world.store.getLink(linkId);
    expect(stored).toMatchObject({ status: 'PROCESSING', sequence: 2 });
    const events = chainOf(await world.receiveEvents(2));
    expect(events.map((d) => d.status)).toEqual(['ISSUED', 'PROCESSING']);
  });
});
