import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { EventPublisher } from '#shared/events/event-publisher.ts';
import { republishPending } from '#shared/recheck/republish.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

const clock = new ManualClock(Date.parse('2026-11-25T10:00:00Z'));
// A client of its own: the mock intercepts it while a failure is scripted, then lets calls through
// to the emulator again.
const eventBridge = new EventBridgeClient({});
let world: Awaited<ReturnType<typeof trackerFixture>>;

beforeAll(async () => {
  world = await trackerFixture({
    clock,
    trackerOverrides: {
      publisher: (names) =>
        new EventPublisher({ eventBusName: names.bus, client: eventBridge, sleep: async () => {} }),
    },
  });
});
afterAll(async () => {
  await world.close();
});

describe('the outbox: recorded changes are never lost when publishing fails', () => {
  it('keeps changes unpublished while PutEvents fails, then republishes them with the same event ids', async () => {
    const mock = mockClient(eventBridge);
    mock
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const linkIds = [0, 1, 2].map(() =>
      world.sandbox.createLink({ amount: 10, timeline: [{ afterMs: 0, status: 'ISSUED' }] }),
    );
    for (const linkId of linkIds) {
      const response = await world.call('GET', `/links/${linkId}`);
      expect(response.status).toBe(200);
    }
    const unpublished = await world.sweep.listUnpublished(100);
    expect(unpublished.map((c) => c.detail.linkId).sort()).toEqual([...linkIds].sort());
    expect(
      world.log.lines.filter((l) => l.message === 'change left unpublished for the next run'),
    ).toHaveLength(3);

    mock.reset();
    // One link's entry keeps failing through every bounded retry.
    mock.on(PutEventsCommand).callsFake((input: { Entries: Array<{ Detail: string }> }) => {
      const failing = input.Entries.map((entry) => entry.Detail.includes(linkIds[1]!));
      return {
        FailedEntryCount: failing.filter(Boolean).length,
        Entries: failing.map((fails, index) =>
          fails ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' } : { EventId: `fake-${index}` },
        ),
      };
    });
    // Left behind long enough to be republished.
    clock.advance(31_000);
    const partly = await republishPending({ tracker: world.tracker, store: world.sweep });
    expect(partly).toEqual({ republished: 2, remaining: 1 });
    const stillPending = await world.sweep.listUnpublished(100);
    expect(stillPending).toHaveLength(1);

    // The bus is back: the last one reaches it through the rule and the queue.
    mock.restore();
    await expect(republishPending({ tracker: world.tracker, store: world.sweep })).resolves.toEqual({
      republished: 1,
      remaining: 0,
    });
    expect(await world.sweep.listUnpublished(100)).toEqual([]);
    const [event] = await world.receiveEvents(1);
    expect(event?.detail.eventId).toBe(stillPending[0]?.detail.eventId);

    const history = await world.call('GET', `/links/${stillPending[0]?.detail.linkId}/events`);
    expect(history.body.events[0].eventId).toBe(stillPending[0]?.detail.eventId);
    expect(history.body.events[0].publishedAt).not.toBeNull();
  });

  it('publishes a change once the bus recovers, to the real bus, with the id it was recorded with', async () => {
    const mock = mockClient(eventBridge);
    mock
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] });
    const linkId = world.sandbox.createLink({ amount: 10, timeline: [{ afterMs: 0, status: 'CLAIMED' }] });
    await world.call('GET', `/links/${linkId}`);
    const [recorded] = await world.sweep.listUnpublished(100);
    mock.restore();
    // A change still in flight (just recorded) is not republished: its writer is publishing it.
    await expect(republishPending({ tracker: world.tracker, store: world.sweep })).resolves.toEqual({
      republished: 0,
      remaining: 0,
    });
    clock.advance(31_000);

    await republishPending({ tracker: world.tracker, store: world.sweep });
    const events = await world.receiveEvents(1);
    expect(events.map((e) => e.detail.eventId)).toEqual([recorded?.detail.eventId]);
  });
});
