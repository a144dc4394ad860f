import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { formatIst } from '#shared/instantpay/ist-time.ts';
import { STATUS_CHANGED } from '#shared/link/link-event.ts';
import { DueLinks } from '#shared/recheck/due-links.ts';
import { detectionDelaySeconds } from '#shared/recheck/recheck-run.ts';
import { shardsForGroup } from '#shared/recheck/shard-groups.ts';
import { TokenBucket } from '#shared/recheck/token-bucket.ts';
import { dueShardName } from '#shared/store/link-store.ts';

describe('shardsForGroup', () => {
  it('gives every shard to exactly one of the parallel runs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), (runs) => {
        const owned = Array.from({ length: runs }, (_, group) => shardsForGroup(group, runs, 16)).flat();
        expect(owned.sort()).toEqual(Array.from({ length: 16 }, (_, s) => dueShardName(s)).sort());
      }),
    );
  });

  it('refuses a group outside the configured runs', () => {
    expect(() => shardsForGroup(2, 2)).toThrow(RangeError);
    expect(() => shardsForGroup(0, 0)).toThrow(RangeError);
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then paces takes at the rate', async () => {
    const clock = new ManualClock(0);
    const slept: number[] = [];
    const bucket = new TokenBucket(10, 3, clock, async (ms) => {
      slept.push(ms);
      clock.advance(ms);
    });
    for (let i = 0; i < 3; i++) await bucket.take();
    expect(clock.now()).toBe(0);
    for (let i = 0; i < 5; i++) await bucket.take();
    expect(clock.now()).toBe(500);
    expect(slept.every((ms) => ms <= 100)).toBe(true);
  });
});

describe('DueLinks', () => {
  it('merges the shards oldest first, a page at a time, handing each link out once', async () => {
    const data: Record<string, number[]> = { a: [5, 9, 30], b: [1, 2, 40, 41], c: [] };
    const store = {
      async queryDue(shard: string, _now: number, limit: number, startKey?: Record<string, unknown>) {
        const from = (startKey?.index as number | undefined) ?? 0;
        const page = (data[shard] ?? []).slice(from, from + limit);
        const more = from + limit < (data[shard] ?? []).length;
        return {
          due: page.map((nextCheckAt) => ({ linkId: `${shard}${nextCheckAt}`, nextCheckAt })),
          lastKey: more ? { index: from + limit } : undefined,
        };
      },
    };
    const due = new DueLinks(store, ['a', 'b', 'c'], 100, 2);
    const taken = await Promise.all(Array.from({ length: 9 }, () => due.next()));
    expect(taken.map((link) => link?.nextCheckAt)).toEqual([1, 2, 5, 9, 30, 40, 41, undefined, undefined]);
  });
});

describe('detectionDelaySeconds', () => {
  it('is the observation time minus the newest activity time, read as IST', () => {
    const observedAt = Date.parse('2026-11-25T10:00:00Z');
    const change = {
      detailType: STATUS_CHANGED,
      detail: {
        activity: [
          { status: 'a', activityAt: formatIst(observedAt - 300_000) },
          { status: 'b', activityAt: formatIst(observedAt - 90_000) },
          { status: 'c', activityAt: 'not a time' },
        ],
        observedAt: new Date(observedAt).toISOString(),
      },
    } as unknown as Parameters<typeof detectionDelaySeconds>[0];
    expect(detectionDelaySeconds(change)).toBe(90);
  });
});
