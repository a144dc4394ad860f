import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { sharedDocumentClient } from '#shared/store/link-store.ts';
import { countCalls } from '#test/support/sdk-call-counter.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

const SECOND = 1_000;
const clock = new ManualClock(Date.parse('2026-12-08T10:00:00Z'));
/** Every call the link store sends (the fixture's store uses the module-level document client). */
const calls = countCalls(sharedDocumentClient());
let world: Awaited<ReturnType<typeof trackerFixture>>;

beforeAll(async () => {
  world = await trackerFixture({ clock });
});
afterAll(async () => {
  await world.close();
});

const trackCalls = (linkId: string) => world.sandbox.stats().trackCalls[linkId] ?? 0;

/** A link recorded CLAIMED, whose InstantPay answer turns back to ISSUED a second later. */
async function claimedLink(): Promise<string> {
  const linkId = world.sandbox.createLink({
    amount: 310,
    timeline: [
      { afterMs: 0, status: 'CLAIMED' },
      { afterMs: 1 * SECOND, status: 'ISSUED' },
    ],
  });
  expect((await world.call('POST', '/links', { body: { linkId } })).body).toMatchObject({ final: true });
  clock.advance(2 * SECOND);
  return linkId;
}

describe('GET /links/{linkId} of a final link', () => {
  it('answers from the table with one read and no InstantPay call, whatever InstantPay would answer', async () => {
    const linkId = await claimedLink();
    const before = trackCalls(linkId);
    calls.clear();

    const view = await world.call('GET', `/links/${linkId}`);

    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ linkId, status: 'CLAIMED', final: true, sequence: 1 });
    expect(trackCalls(linkId)).toBe(before);
    expect(Object.fromEntries(calls)).toEqual({ GetItemCommand: 1 });
  });

  it('answers from the table with maxAgeSeconds too, however old its last check', async () => {
    const linkId = await claimedLink();
    clock.advance(3_600 * SECOND);
    const before = trackCalls(linkId);

    const view = await world.call('GET', `/links/${linkId}`, { query: 'maxAgeSeconds=0' });

    expect(view.body).toMatchObject({ status: 'CLAIMED', final: true });
    expect(trackCalls(linkId)).toBe(before);
  });

  it('still checks InstantPay for a link that is not final, from the state it read: a read and one write when nothing changed', async () => {
    const linkId = world.sandbox.createLink({ amount: 7, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    expect((await world.call('POST', '/links', { body: { linkId } })).status).toBe(201);
    clock.advance(SECOND);
    const before = trackCalls(linkId);
    calls.clear();

    const view = await world.call('GET', `/links/${linkId}`);

    expect(view.body).toMatchObject({ status: 'ISSUED', final: false, checks: 2 });
    expect(trackCalls(linkId)).toBe(before + 1);
    expect(Object.fromEntries(calls)).toEqual({ GetItemCommand: 1, PutItemCommand: 1 });
  });
});
