import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import { runRecheck } from '#shared/recheck/recheck-run.ts';
import { shardsForGroup } from '#shared/recheck/shard-groups.ts';
import { TokenBucket } from '#shared/recheck/token-bucket.ts';
import { dueShardOf, sharedDocumentClient } from '#shared/store/link-store.ts';
import { recheckOptions } from '#test/support/recheck-options.ts';
import { countCalls } from '#test/support/sdk-call-counter.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const clock = new ManualClock(Date.parse('2026-12-07T10:00:00Z'));
/** Every call the link store sends (the fixture's store uses the module-level document client). */
const calls = countCalls(sharedDocumentClient());
let sandbox: Sandbox;
let world: Awaited<ReturnType<typeof trackerFixture>>;

beforeAll(async () => {
  sandbox = await startSandbox({ clock });
});
// A table of its own per test: links an earlier test left watched are not due in the next.
beforeEach(async () => {
  world = await trackerFixture({ clock, sandbox });
});
afterAll(async () => {
  await sandbox.close();
});

/** `count` new ISSUED links, registered (checked once) and due two minutes later. */
async function dueLinks(count: number, accept: (linkId: string) => boolean = () => true): Promise<string[]> {
  const linkIds: string[] = [];
  while (linkIds.length < count) {
    const linkId = sandbox.createLink({ amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    if (!accept(linkId)) continue;
    expect((await world.call('POST', '/links', { body: { linkId } })).status).toBe(201);
    linkIds.push(linkId);
  }
  clock.advance(2 * MINUTE);
  return linkIds;
}

const trackCalls = (linkId: string) => sandbox.stats().trackCalls[linkId] ?? 0;
const callsOf = (linkIds: readonly string[]) => new Map(linkIds.map((id) => [id, trackCalls(id)]));
const checksSince = (before: Map<string, number>) =>
  [...before].map(([linkId, calls]) => trackCalls(linkId) - calls);

/** A rate limit whose every `take()` waits until the test lets it go, or fails. */
function stuckRateLimit() {
  let waiting = 0;
  let fail!: (error: Error) => void;
  const failed = new Promise<never>((_resolve, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined);
  const rateLimit = Object.assign(new TokenBucket(1), {
    take: () => {
      waiting++;
      return failed;
    },
  });
  return { rateLimit, waiting: () => waiting, fail };
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('shard leases: one run at a time per due shard', () => {
  it('keeps every other run off the shards of a run that died holding their leases until the leases end; then the next run checks every link that was due, each once', async () => {
    const linkIds = await dueLinks(30);
    const before = callsOf(linkIds);
    const stuck = stuckRateLimit();

    // Run A takes the leases, its workers each take a due link, and it never gets further.
    const dead = runRecheck(
      { tracker: world.tracker, store: world.sweep },
      recheckOptions({ concurrency: 4, rateLimit: stuck.rateLimit }),
    ).catch((error: Error) => error);
    await until(() => stuck.waiting() === 4);

    const meanwhile = await runRecheck({ tracker: world.tracker, store: world.sweep }, recheckOptions());
    expect(meanwhile.linksChecked).toBe(0);
    const shards = new Set(linkIds.map((linkId) => dueShardOf(linkId)));
    expect(meanwhile.leaseConflicts).toBe(shards.size);

    // A's leases last its remaining time (60 s) plus the margin (5 s): then they are free.
    clock.advance(65 * SECOND + 1);
    const next = await runRecheck({ tracker: world.tracker, store: world.sweep }, recheckOptions());
    expect(next).toMatchObject({ linksChecked: 30, leaseConflicts: 0, otherErrors: 0 });
    expect(checksSince(before)).toEqual(linkIds.map(() => 1));

    // A dead run never comes back; if this one did, it would check nothing more.
    stuck.fail(new Error('the invocation ended'));
    expect(await dead).toMatchObject({ message: 'the invocation ended' });
    expect(checksSince(before)).toEqual(linkIds.map(() => 1));
  });

  it('a run that lost its lease while it stalled takes no more of that shard; the new holder checks the rest, none twice', async () => {
    const shard = shardsForGroup(0, 16)[0]!;
    const linkIds = await dueLinks(8, (linkId) => dueShardOf(linkId) === shard);
    const before = callsOf(linkIds);
    const options = { shards: [shard], concurrency: 1, remainingTimeMs: () => 20 * SECOND };
    let takes = 0;
    const rateLimit = Object.assign(new TokenBucket(1), {
      take: async () => {
        if (++takes !== 3) return;
        // The run stalls past its lease (20 s + 5 s), and another run takes the shard meanwhile.
        clock.advance(26 * SECOND);
        expect(await world.sweep.takeLease(shard, 'run-b', clock.now() + MINUTE, clock.now())).toBe(true);
      },
    });

    const stalled = await runRecheck(
      { tracker: world.tracker, store: world.sweep },
      recheckOptions({ ...options, rateLimit }),
    );
    expect(stalled).toMatchObject({ linksChecked: 2, leasesLost: 1, otherErrors: 0 });

    // While run B holds the shard nobody else checks it; once it is free, the rest are checked.
    const blocked = await runRecheck({ tracker: world.tracker, store: world.sweep }, recheckOptions(options));
    expect(blocked).toMatchObject({ linksChecked: 0, leaseConflicts: 1 });
    expect(await world.sweep.releaseLease(shard, 'run-b', clock.now())).toBe(true);
    const rest = await runRecheck({ tracker: world.tracker, store: world.sweep }, recheckOptions(options));
    expect(rest).toMatchObject({ linksChecked: 6, otherErrors: 0 });
    expect(checksSince(before)).toEqual(linkIds.map(() => 1));
  });

  it('with RECHECK_PARALLEL_RUNS = 4, two overlapping runs of every shard group check each due link once', async () => {
    const linkIds = await dueLinks(40);
    const before = callsOf(linkIds);

    const runs = await Promise.all(
      [0, 1, 2, 3, 0, 1, 2, 3].map((group) =>
        runRecheck(
          { tracker: world.tracker, store: world.sweep },
          recheckOptions({ shards: shardsForGroup(group, 4), concurrency: 3 }),
        ),
      ),
    );

    expect(runs.reduce((sum, run) => sum + run.linksChecked, 0)).toBe(40);
    expect(runs.reduce((sum, run) => sum + run.otherErrors, 0)).toBe(0);
    expect(runs.reduce((sum, run) => sum + run.leaseConflicts, 0)).toBeGreaterThan(0);
    expect(checksSince(before)).toEqual(linkIds.map(() => 1));
  });

  it('an unchanged scheduled check is one write, beside one take and one release per shard with links due; a run with nothing due writes nothing', async () => {
    const linkIds = await dueLinks(20);
    const shards = new Set(linkIds.map((linkId) => dueShardOf(linkId)));
    calls.clear();

    const sweep = await runRecheck({ tracker: world.tracker, store: world.sweep }, recheckOptions());
    expect(sweep).toMatchObject({ linksChecked: 20, transitionsRecorded: 0 });
    const writes = Object.fromEntries(
      ['UpdateItemCommand', 'PutItemCommand', 'TransactWriteItemsCommand', 'GetItemCommand'].map((name) => [
        name,
        calls.get(name) ?? 0,
      ]),
    );
    expect(writes).toEqual({
      UpdateItemCommand: 20 + 2 * shards.size,
      PutItemCommand: 0,
      TransactWriteItemsCommand: 0,
      GetItemCommand: 0,
    });

    calls.clear();
    const idle = await runRecheck({ tracker: world.tracker, store: world.sweep }, recheckOptions());
    expect(idle.linksChecked).toBe(0);
    expect([...calls.keys()].filter((name) => name !== 'QueryCommand')).toEqual([]);
  });
});

describe('SweepQueries shard leases', () => {
  it('are held by one run at a time: taken when free, ended or already its own; renewed and released only by their holder', async () => {
    const shard = 'due#lease-test';
    const now = clock.now();
    const store = world.sweep;

    expect(await store.takeLease(shard, 'a', now + 10_000, now)).toBe(true);
    expect(await store.takeLease(shard, 'b', now + 10_000, now)).toBe(false);
    // A retried write of the holder's own take succeeds.
    expect(await store.takeLease(shard, 'a', now + 10_000, now)).toBe(true);
    expect(await store.renewLease(shard, 'b', now + 20_000)).toBe(false);
    expect(await store.renewLease(shard, 'a', now + 20_000)).toBe(true);
    expect(await store.takeLease(shard, 'b', now + 30_000, now + 15_000)).toBe(false);
    // Once it has ended, another run takes it.
    expect(await store.takeLease(shard, 'b', now + 40_000, now + 20_001)).toBe(true);
    expect(await store.releaseLease(shard, 'a', now + 20_002)).toBe(false);
    expect(await store.releaseLease(shard, 'b', now + 20_002)).toBe(true);
    expect(await store.takeLease(shard, 'c', now + 50_000, now + 20_003)).toBe(true);
  });
});
