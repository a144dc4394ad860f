import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import { runRecheck } from '#shared/recheck/recheck-run.ts';
import { TokenBucket } from '#shared/recheck/token-bucket.ts';
import { recheckOptions } from '#test/support/recheck-options.ts';
import { type BusEvent, trackerFixture } from '#test/support/tracker-fixture.ts';

const MINUTE = 60_000;
const clock = new ManualClock(Date.parse('2026-11-25T10:00:00Z'));
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ clock });
});
afterAll(async () => {
  await sandbox.close();
});

async function world() {
  return trackerFixture({ clock, sandbox });
}

type World = Awaited<ReturnType<typeof world>>;

/** Registers links a few at a time, as clients would. */
async function register(w: World, linkIds: string[], body: (linkId: string) => object = () => ({})) {
  for (let i = 0; i < linkIds.length; i += 8) {
    const batch = linkIds.slice(i, i + 8);
    const responses = await Promise.all(
      batch.map((linkId) => w.call('POST', '/links', { body: { linkId, ...body(linkId) } })),
    );
    expect(responses.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
  }
}

function trackCalls(linkId: string): number {
  return sandbox.stats().trackCalls[linkId] ?? 0;
}

describe('recheck-pending: every watched link on its own schedule', () => {
  it('records every change of 150 links exactly once, checks none before it is due, and never rechecks a final link', {
    timeout: 300_000,
  }, async () => {
    const w = await world();
    // Watch what each run reads of the due index and what it checks: a scheduled check only ever
    // follows a link the index gave as due.
    const dueRead = new Map<string, number>();
    const queryDue = w.sweep.queryDue.bind(w.sweep);
    w.sweep.queryDue = async (...args) => {
      const page = await queryDue(...args);
      for (const link of page.due) dueRead.set(link.linkId, link.nextCheckAt);
      return page;
    };
    const checked: string[] = [];
    const check = w.tracker.check.bind(w.tracker);
    w.tracker.check = async (linkId, options) => {
      if (options.trigger === 'scheduled') checked.push(linkId);
      return check(linkId, options);
    };

    const kinds: Array<{ timeline: Array<[number, string]>; expiresInMs?: number }> = [
      {
        timeline: [
          [0, 'ISSUED'],
          [2 * MINUTE, 'PROCESSING'],
          [3 * MINUTE, 'CLAIMED'],
        ],
      },
      {
        timeline: [
          [0, 'ISSUED'],
          [4 * MINUTE, 'CANCELLED'],
        ],
      },
      {
        timeline: [
          [0, 'ISSUED'],
          [5 * MINUTE, 'EXPIRED'],
        ],
      },
      {
        timeline: [
          [0, 'ISSUED'],
          [1 * MINUTE, 'PROCESSING'],
          [2 * MINUTE, 'ISSUED'],
          [4 * MINUTE, 'PROCESSING'],
          [6 * MINUTE, 'CLAIMED'],
        ],
      },
      { timeline: [[0, 'ISSUED']], expiresInMs: 4 * MINUTE },
    ];
    const links = Array.from({ length: 150 }, (_, index) => {
      const kind = kinds[index % kinds.length]!;
      const linkId = sandbox.createLink({
        amount: 100 + index,
        timeline: kind.timeline.map(([afterMs, status]) => ({ afterMs, status })),
      });
      return { linkId, kind };
    });
    const start = clock.now();
    await register(
      w,
      links.map((l) => l.linkId),
      (linkId) => {
        const kind = links.find((l) => l.linkId === linkId)!.kind;
        return kind.expiresInMs ? { expiresAt: new Date(start + kind.expiresInMs).toISOString() } : {};
      },
    );
    const afterRegistration = new Map(links.map((l) => [l.linkId, trackCalls(l.linkId)]));

    const finalAt = new Map<string, number>();
    const received: BusEvent[] = [];
    let idleRuns = 0;
    let runs = 0;
    for (; runs < 16 && idleRuns < 2; runs++) {
      clock.advance(MINUTE);
      const callsBefore = sandbox.stats().total;
      const checkedBefore = checked.length;
      dueRead.clear();
      const summary = await runRecheck({ tracker: w.tracker, store: w.sweep }, recheckOptions());
      expect(summary.otherErrors).toBe(0);
      expect(summary.stoppedEarly).toBe(false);
      // Every upstream call of the run was a check of a link the index gave as due, each once.
      const thisRun = checked.slice(checkedBefore);
      expect(sandbox.stats().total - callsBefore).toBe(thisRun.length);
      expect(new Set(thisRun).size).toBe(thisRun.length);
      for (const linkId of thisRun) expect(dueRead.get(linkId)).toBeLessThanOrEqual(clock.now());
      // A link seen final before this run was not checked by it.
      for (const [linkId, calls] of finalAt) expect(trackCalls(linkId)).toBe(calls);
      for (const event of await w.receiveEvents(summary.transitionsRecorded)) {
        received.push(event);
        if (event.detail.final) finalAt.set(event.detail.linkId, trackCalls(event.detail.linkId));
      }
      idleRuns = summary.linksChecked === 0 ? idleRuns + 1 : 0;
    }
    expect(idleRuns).toBe(2);

    const expectedChanges = links.reduce((sum, { kind }) => sum + kind.timeline.length, 0);
    const events = [...received, ...(await w.receiveEvents(0, 1_000))];
    const unique = new Map(events.map((e) => [e.detail.eventId, e.detail]));
    expect(unique.size).toBe(expectedChanges);
    for (const { linkId, kind } of links) {
      const chain = [...unique.values()]
        .filter((d) => d.linkId === linkId)
        .sort((a, b) => a.sequence - b.sequence);
      const expected = kind.timeline.map(([, status]) => status);
      expect(
        chain.map((d) => d.status),
        linkId,
      ).toEqual(expected);
      expect(chain.map((d) => d.sequence)).toEqual(expected.map((_, i) => i + 1));
      expect(trackCalls(linkId)).toBeGreaterThan(afterRegistration.get(linkId)!);
    }
    const stored = await w.store.getLink(links[4]!.linkId);
    expect(stored).toMatchObject({ status: 'ISSUED', nextCheckAt: null });
    await w.close();
  });

  it('stops taking links before its time runs out, and the next run picks up exactly the rest', async () => {
    const w = await world();
    const linkIds = Array.from({ length: 20 }, () =>
      sandbox.createLink({ amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] }),
    );
    await register(w, linkIds);
    await w.receiveEvents(20);
    clock.advance(2 * MINUTE);
    const before = new Map(linkIds.map((id) => [id, trackCalls(id)]));
    sandbox.addFault({ kind: 'latency', value: 150 });

    const deadline = Date.now() + 1_200;
    const first = await runRecheck(
      { tracker: w.tracker, store: w.sweep },
      recheckOptions({ concurrency: 2, remainingTimeMs: () => deadline - Date.now(), stopBeforeMs: 600 }),
    );
    expect(first.stoppedEarly).toBe(true);
    expect(first.linksChecked).toBeGreaterThan(0);
    expect(first.linksChecked).toBeLessThan(20);
    expect(first.dueBacklog).toBe(20 - first.linksChecked);
    expect(Date.now()).toBeLessThan(deadline + 300);

    sandbox.clearFaults();
    const second = await runRecheck({ tracker: w.tracker, store: w.sweep }, recheckOptions());
    expect(second.linksChecked).toBe(20 - first.linksChecked);
    expect(second.dueBacklog).toBe(0);
    expect(linkIds.map((id) => trackCalls(id) - before.get(id)!)).toEqual(linkIds.map(() => 1));
    await w.close();
  });

  it('keeps upstream calls within UPSTREAM_MAX_RPS', async () => {
    const w = await world();
    const linkIds = Array.from({ length: 30 }, () =>
      sandbox.createLink({ amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] }),
    );
    await register(w, linkIds);
    clock.advance(2 * MINUTE);

    const rate = 10;
    const samples: Array<{ at: number; calls: number }> = [];
    const base = sandbox.stats().total;
    const started = Date.now();
    const sampler = setInterval(
      () => samples.push({ at: Date.now() - started, calls: sandbox.stats().total - base }),
      20,
    );
    const summary = await runRecheck(
      { tracker: w.tracker, store: w.sweep },
      recheckOptions({ concurrency: 8, rateLimit: new TokenBucket(rate, 5) }),
    );
    clearInterval(sampler);

    expect(summary.linksChecked).toBe(30);
    // A burst of 5, then 10 a second: never ahead of the bucket (one call of slack for the sample).
    for (const sample of samples) expect(sample.calls).toBeLessThanOrEqual(5 + (rate * sample.at) / 1000 + 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(((30 - 5) / rate) * 1000 - 100);
    await w.close();
  });

  it('loses nothing when 20 % of upstream calls fail: failed links back off, the rest are unaffected', async () => {
    const w = await world();
    const linkIds = Array.from({ length: 50 }, () =>
      sandbox.createLink({
        amount: 1,
        timeline: [
          { afterMs: 0, status: 'ISSUED' },
          { afterMs: 90_000, status: 'CLAIMED' },
        ],
      }),
    );
    await register(w, linkIds);
    clock.advance(2 * MINUTE);
    sandbox.addFault({ kind: 'http-status', value: 500, probability: 0.2 });

    const failing = await runRecheck({ tracker: w.tracker, store: w.sweep }, recheckOptions());
    sandbox.clearFaults();
    expect(failing.upstreamErrors).toBeGreaterThan(0);
    expect(failing.transitionsRecorded).toBe(50 - failing.upstreamErrors);
    const stored = await Promise.all(linkIds.map((id) => w.store.getLink(id)));
    const failed = stored.filter((link) => link?.consecutiveErrors === 1);
    expect(failed).toHaveLength(failing.upstreamErrors);
    for (const link of failed) {
      expect(link).toMatchObject({ status: 'ISSUED' });
      expect(link!.nextCheckAt! - clock.now()).toBeGreaterThanOrEqual(1.8 * MINUTE);
    }
    for (const link of stored.filter((l) => l?.consecutiveErrors === 0))
      expect(link).toMatchObject({ status: 'CLAIMED', nextCheckAt: null });

    for (let i = 0; i < 5; i++) {
      clock.advance(2 * MINUTE);
      await runRecheck({ tracker: w.tracker, store: w.sweep }, recheckOptions());
    }
    const events = await w.receiveEvents(100);
    const claimed = new Set(
      [...events].filter((e) => e.detail.status === 'CLAIMED').map((e) => e.detail.linkId),
    );
    expect(claimed.size).toBe(50);
    await w.close();
  });

  it('checks each due link once when two runs start at the same moment', async () => {
    const w = await world();
    const linkIds = Array.from({ length: 40 }, () =>
      sandbox.createLink({ amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] }),
    );
    await register(w, linkIds);
    clock.advance(2 * MINUTE);
    const before = new Map(linkIds.map((id) => [id, trackCalls(id)]));

    const [a, b] = await Promise.all([
      runRecheck({ tracker: w.tracker, store: w.sweep }, recheckOptions({ concurrency: 8 })),
      runRecheck({ tracker: w.tracker, store: w.sweep }, recheckOptions({ concurrency: 8 })),
    ]);
    expect(a.linksChecked + b.linksChecked).toBe(40);
    // Each shard went to one of them: the other left it to its holder.
    expect(a.leaseConflicts + b.leaseConflicts).toBeGreaterThan(0);
    expect(linkIds.map((id) => trackCalls(id) - before.get(id)!)).toEqual(linkIds.map(() => 1));
    await w.close();
  });
});
