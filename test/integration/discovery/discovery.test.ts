import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { instantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import { type DiscoverySummary, runDiscovery } from '#shared/discovery/discovery-run.ts';
import { DiscoveryStore } from '#shared/discovery/discovery-store.ts';
import { createInstantPayListClient, type InstantPayListClient } from '#shared/instantpay/list-client.ts';
import { TokenBucket } from '#shared/recheck/token-bucket.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

const LINKS = 1_000;
const PAGE = 100;
/** Discovery's share of the budget in this test: high enough for moto to be the bottleneck. */
const RATE = 200;

const clock = new ManualClock(Date.parse('2026-03-02T10:00:00Z'));
let world: Awaited<ReturnType<typeof trackerFixture>>;
let store: DiscoveryStore;
let upstream: InstantPayListClient;
/** Every List page asked for, per run, as `STATUS:page`. */
let pagesAsked: string[] = [];
/** Tokens taken from the bucket: every upstream call must take one. */
let tokens = 0;
/** Pages a run finished (the cursor moved past them). */
let cursorMoves = 0;
const bucket = new TokenBucket(RATE);
const rateLimit = {
  take: () => {
    tokens++;
    return bucket.take();
  },
};
const listed = new Set<string>();

const linkId = (i: number) => `disc-${String(i).padStart(4, '0')}`;

function run(remainingTimeMs: () => number = () => 60_000): Promise<DiscoverySummary> {
  return runDiscovery(
    {
      registrations: world.registrations,
      upstream: {
        listLinks: async (query) => {
          pagesAsked.push(`${query.statuses.join(',')}:${query.pageNumber}`);
          const page = await upstream.listLinks(query);
          for (const link of page.links) listed.add(link.linkId);
          return page;
        },
      },
      store: {
        readCursor: () => store.readCursor(),
        knownLinkIds: (ids) => store.knownLinkIds(ids),
        moveCursor: async (...args) => {
          const moved = await store.moveCursor(...args);
          if (moved) cursorMoves++;
          return moved;
        },
      },
      log: world.log.logger,
    },
    {
      statuses: ['ISSUED', 'PROCESSING'],
      recordsPerPage: PAGE,
      concurrency: 8,
      rateLimit,
      remainingTimeMs,
      stopBeforeMs: 1_000,
    },
  );
}

beforeAll(async () => {
  world = await trackerFixture({ clock });
  store = new DiscoveryStore({ tableName: world.names.table });
  // List through the same secret as the tracker's Track calls, as the function wires it.
  upstream = createInstantPayListClient({
    credentials: instantPayCredentials({ secretName: world.names.secret, maxAgeSeconds: 300 }),
    timeoutMs: 5_000,
  });
  for (let i = 0; i < LINKS; i++)
    world.sandbox.createLink({
      linkId: linkId(i),
      amount: 100 + i,
      timeline: [{ afterMs: 0, status: 'ISSUED' }],
    });
  // The preloaded sample link is claimed six seconds in: out of the listed statuses.
  clock.advance(10_000);
  // One link a merchant registered and then unwatched: discovery must never take it back.
  expect(
    (await world.call('POST', '/links', { body: { linkId: linkId(500), reference: 'INV-500' } })).status,
  ).toBe(201);
  expect((await world.call('DELETE', `/links/${linkId(500)}`)).status).toBe(204);
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe('discovery over the sandbox', () => {
  it('discovers 1,000 links across 10 List pages exactly once each, resuming a run stopped mid-way at the next page, within the upstream budget', async () => {
    const tracksBefore = world.sandbox.stats().total;
    const started = Date.now();

    // The first run's time runs out once it has finished four pages.
    const first = await run(() => (cursorMoves < 4 ? 60_000 : 0));
    expect(first.stoppedBy).toBe('time');
    expect(pagesAsked).toEqual(['ISSUED:1', 'ISSUED:2', 'ISSUED:3', 'ISSUED:4']);
    expect(first.resumeAt).toEqual({ status: 'ISSUED', pageNumber: 5 });
    const firstPages = [...pagesAsked];

    pagesAsked = [];
    const second = await run();
    expect(second.stoppedBy).toBe('pass-complete');
    // Resumed at the page after the last one read: none missed, none read twice; page 11 is empty (short: the last).
    expect(pagesAsked).toEqual([
      'ISSUED:5',
      'ISSUED:6',
      'ISSUED:7',
      'ISSUED:8',
      'ISSUED:9',
      'ISSUED:10',
      'ISSUED:11',
      'PROCESSING:1',
    ]);
    expect(new Set([...firstPages, ...pagesAsked]).size).toBe(firstPages.length + pagesAsked.length);
    const elapsedSeconds = (Date.now() - started) / 1000;

    expect(listed.size).toBe(LINKS);
    expect(first.linksDiscovered + second.linksDiscovered).toBe(LINKS - 1);
    expect(first.alreadyKnown + second.alreadyKnown).toBe(1);
    expect(first.pagesRead + second.pagesRead).toBe(12);

    // Exactly once: one Track call per discovered link (its registration), none for the unwatched one.
    const stats = world.sandbox.stats();
    expect(stats.total - tracksBefore).toBe(LINKS - 1);
    for (let i = 0; i < LINKS; i++) expect(stats.trackCalls[linkId(i)], linkId(i)).toBe(1);
    expect(stats.listCalls).toBe(12);

    // Every upstream call took a token of discovery's share, and the share held.
    expect(tokens).toBe(LINKS - 1 + 12);
    expect(tokens).toBeLessThanOrEqual(RATE * elapsedSeconds + RATE);

    // In the table: watched, first change `discovered`; the unwatched link still unwatched.
    for (const i of [0, 1, 499, 501, 999]) {
      const stored = await world.store.getLink(linkId(i));
      expect(stored?.status).toBe('ISSUED');
      expect(stored?.nextCheckAt).not.toBeNull();
      const [change] = await world.queries.listChanges(linkId(i));
      expect(change?.detail).toMatchObject({ sequence: 1, status: 'ISSUED', trigger: 'discovered' });
    }
    const unwatched = await world.store.getLink(linkId(500));
    expect(unwatched?.watchEnded?.reason).toBe('unwatched');
    expect(unwatched?.reference).toBe('INV-500');
  }, 240_000);

  it('a later pass reads the pages again but registers nothing it knows', async () => {
    const tracksBefore = world.sandbox.stats().total;
    pagesAsked = [];
    const pass = await run();
    expect(pass.stoppedBy).toBe('pass-complete');
    expect(pass.pagesRead).toBe(12);
    expect(pass.linksDiscovered).toBe(0);
    expect(pass.alreadyKnown).toBe(LINKS);
    expect(world.sandbox.stats().total).toBe(tracksBefore);
    expect((await store.readCursor())?.passes).toBe(2);
  }, 60_000);

  it('a run whose cursor another run moved stops without moving it again', async () => {
    const cursor = await store.readCursor();
    expect(cursor).not.toBeNull();
    expect(
      await store.moveCursor(cursor!.version - 1, { status: 'ISSUED', pageNumber: 7, passes: 0 }, 0),
    ).toBeNull();
    expect(await store.readCursor()).toEqual(cursor);
  });
});
