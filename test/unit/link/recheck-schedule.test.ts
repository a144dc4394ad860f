import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LinkActivity } from '#shared/link/link-observation.ts';
import {
  DEFAULT_SCHEDULE,
  lastChangeAt,
  nextCheckAt,
  type ScheduleInput,
} from '#shared/link/recheck-schedule.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const NOW = Date.UTC(2024, 0, 15, 6, 0, 0);
/** `random` at the middle of [0, 1) cancels the jitter. */
const noJitter = () => 0.5;

function link(overrides: Partial<ScheduleInput> = {}): ScheduleInput {
  return { status: 'ISSUED', lastChangeAt: NOW, consecutiveErrors: 0, expiresAt: null, ...overrides };
}

function delay(input: ScheduleInput, random: () => number = noJitter, config = DEFAULT_SCHEDULE) {
  const next = nextCheckAt(input, NOW, random, config);
  return next === null ? null : next - NOW;
}

const randoms = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const statuses = fc.constantFrom<string | null>('ISSUED', 'PROCESSING', 'ON_HOLD', null);

describe('nextCheckAt', () => {
  it('rechecks a PROCESSING link every 30 seconds', () => {
    expect(delay(link({ status: 'PROCESSING', lastChangeAt: NOW - 3 * HOUR }))).toBe(30 * SECOND);
  });

  it.each([
    [0, 1 * MINUTE],
    [15 * MINUTE - 1, 1 * MINUTE],
    [15 * MINUTE, 5 * MINUTE],
    [2 * HOUR - 1, 5 * MINUTE],
    [2 * HOUR, 15 * MINUTE],
    [24 * HOUR - 1, 15 * MINUTE],
    [24 * HOUR, 1 * HOUR],
    [30 * 24 * HOUR, 1 * HOUR],
  ])('rechecks an ISSUED link quiet for %i ms after %i ms', (quietFor, expected) => {
    expect(delay(link({ lastChangeAt: NOW - quietFor }))).toBe(expected);
  });

  it('schedules an unknown status like ISSUED', () => {
    for (const quietFor of [0, 20 * MINUTE, 3 * HOUR, 2 * 24 * HOUR]) {
      const asIssued = delay(link({ lastChangeAt: NOW - quietFor }));

      expect(delay(link({ status: 'ON_HOLD', lastChangeAt: NOW - quietFor }))).toBe(asIssued);
    }
  });

  it('schedules a never observed link (status null, no change known) every minute', () => {
    expect(delay(link({ status: null, lastChangeAt: null }))).toBe(1 * MINUTE);
  });

  it('treats a last change in the future as a change just now', () => {
    expect(delay(link({ lastChangeAt: NOW + HOUR }))).toBe(1 * MINUTE);
  });

  it('keeps the jitter within 10 % of the interval', () => {
    fc.assert(
      fc.property(
        statuses,
        fc.integer({ min: 0, max: 48 * HOUR }),
        fc.integer({ min: 0, max: 12 }),
        randoms,
        (status, quietFor, consecutiveErrors, random) => {
          const input = link({ status, lastChangeAt: NOW - quietFor, consecutiveErrors });
          const base = delay(input)!;

          const jittered = delay(input, () => random)!;

          expect(Math.abs(jittered - base)).toBeLessThanOrEqual(0.1 * base + 0.5);
        },
      ),
    );
  });

  it('spreads checks across the whole jitter range', () => {
    expect(delay(link(), () => 0)).toBe(54 * SECOND);
    expect(delay(link(), () => 0.999_999)).toBe(66 * SECOND);
  });

  it.each([
    [1, 2 * MINUTE],
    [2, 4 * MINUTE],
    [3, 8 * MINUTE],
    [5, 32 * MINUTE],
    [6, 1 * HOUR],
    [50, 1 * HOUR],
    [10_000, 1 * HOUR],
  ])(
    'backs off exponentially from the usual minute after %i consecutive errors, to %i ms',
    (consecutiveErrors, expected) => {
      expect(delay(link({ consecutiveErrors }))).toBe(expected);
    },
  );

  it('backs off a PROCESSING link after errors instead of rechecking every 30 seconds', () => {
    expect(delay(link({ status: 'PROCESSING', consecutiveErrors: 3 }))).toBe(4 * MINUTE);
  });

  it('never checks a link more often after an error than without one', () => {
    fc.assert(
      fc.property(
        statuses,
        fc.integer({ min: 0, max: 48 * HOUR }),
        fc.integer({ min: 1, max: 40 }),
        (status, quietFor, errors) => {
          const usual = delay(link({ status, lastChangeAt: NOW - quietFor }));
          const backedOff = delay(link({ status, lastChangeAt: NOW - quietFor, consecutiveErrors: errors }));
          expect(backedOff!).toBeGreaterThanOrEqual(usual!);
        },
      ),
    );
  });

  it('never backs off beyond an hour plus jitter', () => {
    fc.assert(
      fc.property(
        statuses,
        fc.integer({ min: 1, max: 1_000 }),
        randoms,
        (status, consecutiveErrors, random) => {
          expect(delay(link({ status, consecutiveErrors }), () => random)).toBeLessThanOrEqual(1.1 * HOUR);
        },
      ),
    );
  });

  it.each(['CLAIMED', 'CANCELLED', 'EXPIRED'])('stops watching a %s link', (status) => {
    expect(nextCheckAt(link({ status }), NOW, noJitter)).toBeNull();
    expect(nextCheckAt(link({ status, consecutiveErrors: 4 }), NOW, noJitter)).toBeNull();
  });

  it('stops watching once a check happens at or after expiresAt', () => {
    expect(nextCheckAt(link({ expiresAt: NOW }), NOW, noJitter)).toBeNull();
    expect(nextCheckAt(link({ expiresAt: NOW - 1 }), NOW, noJitter)).toBeNull();
  });

  it('checks once just past expiresAt, then stops', () => {
    const input = link({ lastChangeAt: NOW - 30 * HOUR, expiresAt: NOW + 10 * MINUTE });

    const next = nextCheckAt(input, NOW, noJitter);
    const after = nextCheckAt(input, next!, noJitter);

    expect(next).toBe(NOW + 10 * MINUTE + DEFAULT_SCHEDULE.expiryGraceMs);
    expect(after).toBeNull();
  });

  it('never schedules a check later than expiresAt plus the grace', () => {
    fc.assert(
      fc.property(
        statuses,
        fc.integer({ min: 0, max: 48 * HOUR }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 48 * HOUR }),
        randoms,
        (status, quietFor, consecutiveErrors, expiresIn, random) => {
          const input = link({
            status,
            lastChangeAt: NOW - quietFor,
            consecutiveErrors,
            expiresAt: NOW + expiresIn,
          });

          const next = nextCheckAt(input, NOW, () => random);

          expect(next).not.toBeNull();
          expect(next!).toBeGreaterThan(NOW);
          expect(next!).toBeLessThanOrEqual(NOW + expiresIn + DEFAULT_SCHEDULE.expiryGraceMs);
        },
      ),
    );
  });

  it('multiplies every interval by the scale', () => {
    const local = { ...DEFAULT_SCHEDULE, scale: 1 / 60 };

    expect(delay(link({ status: 'PROCESSING' }), noJitter, local)).toBe(500);
    expect(delay(link(), noJitter, local)).toBe(1 * SECOND);
    expect(delay(link({ lastChangeAt: NOW - 25 * HOUR }), noJitter, local)).toBe(1 * MINUTE);
    expect(delay(link({ consecutiveErrors: 20 }), noJitter, local)).toBe(1 * MINUTE);
  });

  it('compresses the points where the interval changes as well: a deployed minute is a local second', () => {
    const local = { ...DEFAULT_SCHEDULE, scale: 1 / 60 };

    expect(delay(link({ lastChangeAt: NOW - 14 * SECOND }), noJitter, local)).toBe(1 * SECOND);
    expect(delay(link({ lastChangeAt: NOW - 16 * SECOND }), noJitter, local)).toBe(5 * SECOND);
    expect(delay(link({ lastChangeAt: NOW - 3 * MINUTE }), noJitter, local)).toBe(15 * SECOND);
  });

  it('scales the grace past expiresAt too', () => {
    const local = { ...DEFAULT_SCHEDULE, scale: 1 / 60 };
    const input = link({ lastChangeAt: NOW - 25 * HOUR, expiresAt: NOW + 10 * SECOND });

    expect(nextCheckAt(input, NOW, noJitter, local)).toBe(NOW + 11 * SECOND);
  });

  it('schedules every watched link strictly in the future', () => {
    fc.assert(
      fc.property(
        statuses,
        fc.integer({ min: 0, max: 48 * HOUR }),
        fc.integer({ min: 0, max: 40 }),
        randoms,
        fc.double({ min: 1e-6, max: 1, noNaN: true }),
        (status, quietFor, consecutiveErrors, random, scale) => {
          const input = link({ status, lastChangeAt: NOW - quietFor, consecutiveErrors });

          const next = nextCheckAt(input, NOW, () => random, { ...DEFAULT_SCHEDULE, scale });

          expect(next).not.toBeNull();
          expect(next!).toBeGreaterThan(NOW);
        },
      ),
    );
  });
});

describe('lastChangeAt', () => {
  const entry = (activityAt: string): LinkActivity => ({ status: 'something happened', activityAt });
  /** 2023-12-12 14:51:31 IST. */
  const CLAIMED_AT = Date.UTC(2023, 11, 12, 9, 21, 31);

  it('reads activityAt as IST (UTC+05:30)', () => {
    expect(lastChangeAt([entry('2023-12-12 14:51:31')], null)).toBe(CLAIMED_AT);
  });

  it('takes the newest entry whatever the order of the list', () => {
    const activity = [
      entry('2023-12-12 14:51:25'),
      entry('2023-12-12 14:51:31'),
      entry('2023-12-12 14:51:26'),
    ];

    expect(lastChangeAt(activity, null)).toBe(CLAIMED_AT);
  });

  it('takes the recorded change when it is newer than every entry', () => {
    expect(lastChangeAt([entry('2023-12-12 14:51:31')], CLAIMED_AT + 1)).toBe(CLAIMED_AT + 1);
  });

  it('takes the newest entry when it is newer than the recorded change', () => {
    expect(lastChangeAt([entry('2023-12-12 14:51:31')], CLAIMED_AT - 1)).toBe(CLAIMED_AT);
  });

  it('ignores entries whose time cannot be read', () => {
    const activity = [entry('2099-01-01T00:00:00Z'), entry('2023-02-31 10:00:00'), entry('soon')];

    expect(lastChangeAt(activity, 1_000)).toBe(1_000);
    expect(lastChangeAt(activity, null)).toBeNull();
  });

  it('answers the recorded change, or null, when there is no activity', () => {
    expect(lastChangeAt([], 1_234)).toBe(1_234);
    expect(lastChangeAt([], null)).toBeNull();
  });
});
