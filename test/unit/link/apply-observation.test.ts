import { describe, expect, it, vi } from 'vitest';
import {
  applyFailedCheck,
  applyObservation,
  type FailedCheck,
  type GiveUpConfig,
  type Scheduler,
} from '#shared/link/apply-observation.ts';
import { diffObservation } from '#shared/link/diff-observation.ts';
import type { LinkChange } from '#shared/link/link-event.ts';
import { newLinkState } from '#shared/link/link-state.ts';
import { DEFAULT_SCHEDULE, nextCheckAt } from '#shared/link/recheck-schedule.ts';
import { LINK_ID, observation, SAMPLE_ACTIVITY, storedState, T0 } from './fixtures.ts';

const NOW = T0 + 400;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
/** The real schedule without jitter. */
const schedule: Scheduler = (input, now) => nextCheckAt(input, now, () => 0.5);

function changesFor(stored: Parameters<typeof diffObservation>[0], observed: ReturnType<typeof observation>) {
  const result = diffObservation(stored, observed, { trigger: 'scheduled', stage: 'test' });
  return result.kind === 'changed' ? result.changes : [];
}

const fakeChange = {} as LinkChange;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const GIVE_UP: GiveUpConfig = { giveUpAfterPermanentErrorsMs: 7 * DAY, expiryFailureGraceMs: DAY, scale: 1 };
const TIMEOUT: FailedCheck = { error: 'UpstreamUnavailableError', permanent: false };
const UNKNOWN_LINK: FailedCheck = { error: 'LinkNotFoundError', statuscode: 'ITI', permanent: true };

describe('applyObservation', () => {
  it('counts the check, the write and the recorded changes', () => {
    const stored = storedState({ sequence: 3, version: 8, checks: 11 });
    const observed = observation({ status: 'PROCESSING' });

    const next = applyObservation(stored, observed, changesFor(stored, observed), NOW, schedule);

    expect(next.checks).toBe(12);
    expect(next.version).toBe(9);
    expect(next.sequence).toBe(4);
  });

  it('adds every change of the observation to the sequence and none when nothing changed', () => {
    const stored = storedState({ sequence: 3 });

    expect(applyObservation(stored, observation(), [], NOW, schedule).sequence).toBe(3);
    expect(applyObservation(stored, observation(), [fakeChange, fakeChange], NOW, schedule).sequence).toBe(5);
  });

  it('records when the answer was read, apart from when it was applied', () => {
    const observed = observation({ startedAt: T0 + 10, observedAt: T0 + 310 });

    const next = applyObservation(storedState(), observed, [], NOW, schedule);

    expect(next.lastObservedAt).toBe(T0 + 310);
    expect(next.lastCheckedAt).toBe(NOW);
  });

  it('sets firstSeenAt on the first successful observation', () => {
    const stored = newLinkState(LINK_ID, T0 - 5_000);
    const observed = observation();

    const next = applyObservation(stored, observed, changesFor(stored, observed), NOW, schedule);

    expect(next.firstSeenAt).toBe(NOW);
    expect(next.status).toBe('ISSUED');
    expect(next.sequence).toBe(1);
  });

  it('keeps firstSeenAt once set', () => {
    const stored = storedState({ firstSeenAt: T0 - 99_000 });
    const observed = observation({ status: 'CLAIMED', activity: SAMPLE_ACTIVITY });

    const next = applyObservation(stored, observed, changesFor(stored, observed), NOW, schedule);

    expect(next.firstSeenAt).toBe(T0 - 99_000);
  });

  it('resets the consecutive errors after a success', () => {
    const stored = storedState({ consecutiveErrors: 5 });

    expect(applyObservation(stored, observation(), [], NOW, schedule).consecutiveErrors).toBe(0);
  });

  it('takes the observed status, amount and upstream stamp', () => {
    const observed = observation({ status: 'PROCESSING', amount: 99.5, ipayUuid: 'new-uuid' });

    const next = applyObservation(storedState(), observed, [fakeChange], NOW, schedule);

    expect(next.status).toBe('PROCESSING');
    expect(next.amount).toBe(99.5);
    expect(next.upstream).toEqual({
      statuscode: 'TXN',
      ipayUuid: 'new-uuid',
      environment: 'PRODUCTION',
      timestamp: '2023-12-14 16:42:49',
    });
  });

  it('moves lastChangedAt only when the observation recorded a change', () => {
    const stored = storedState({ lastChangedAt: T0 - 60_000 });

    expect(applyObservation(stored, observation(), [], NOW, schedule).lastChangedAt).toBe(T0 - 60_000);
    expect(applyObservation(stored, observation(), [fakeChange], NOW, schedule).lastChangedAt).toBe(NOW);
  });

  it('takes the grown activity list', () => {
    const observed = observation({ activity: SAMPLE_ACTIVITY.slice(0, 3) });

    expect(applyObservation(storedState(), observed, [], NOW, schedule).activity).toEqual(
      SAMPLE_ACTIVITY.slice(0, 3),
    );
  });

  it('never shrinks the recorded activity when the upstream answers fewer entries', () => {
    const stored = storedState({ activity: SAMPLE_ACTIVITY.slice(0, 3) });
    const observed = observation({ activity: SAMPLE_ACTIVITY.slice(0, 1) });

    const next = applyObservation(stored, observed, [], NOW, schedule);

    expect(next.activity).toEqual(SAMPLE_ACTIVITY.slice(0, 3));
  });

  it('takes an answer with as many entries as recorded, so entries stored before a masking fix are stored masked anew', () => {
    const stored = storedState({
      activity: [
        SAMPLE_ACTIVITY[0]!,
        { status: 'Sent to +91 84304 54547', activityAt: '2023-12-12 14:51:26' },
      ],
    });
    const observed = observation({ activity: SAMPLE_ACTIVITY.slice(0, 2) });

    expect(applyObservation(stored, observed, [], NOW, schedule).activity).toEqual(
      SAMPLE_ACTIVITY.slice(0, 2),
    );
  });

  it.each(['CLAIMED', 'CANCELLED', 'EXPIRED'])('stops watching a link observed %s', (status) => {
    const stored = storedState({ nextCheckAt: T0 });
    const observed = observation({ status, activity: SAMPLE_ACTIVITY });

    const next = applyObservation(stored, observed, changesFor(stored, observed), NOW, schedule);

    expect(next.nextCheckAt).toBeNull();
  });

  it('watches a link that is not final and hands the schedule what it needs', () => {
    const scheduler = vi.fn<Scheduler>(() => NOW + 12_345);
    const stored = storedState({ expiresAt: T0 + 86_400_000, consecutiveErrors: 2, lastChangedAt: T0 - 5 });

    const next = applyObservation(
      stored,
      observation({ status: 'PROCESSING' }),
      [fakeChange],
      NOW,
      scheduler,
    );

    expect(next.nextCheckAt).toBe(NOW + 12_345);
    expect(scheduler).toHaveBeenCalledWith(
      { status: 'PROCESSING', lastChangeAt: NOW, consecutiveErrors: 0, expiresAt: T0 + 86_400_000 },
      NOW,
    );
  });

  it('schedules a PROCESSING link 30 seconds later with the real schedule', () => {
    const next = applyObservation(
      storedState(),
      observation({ status: 'PROCESSING' }),
      [fakeChange],
      NOW,
      schedule,
    );

    expect(next.nextCheckAt).toBe(NOW + 30 * SECOND);
  });

  it('leaves the registration fields of the stored state alone', () => {
    const stored = storedState({ reference: 'ref-1', metadata: { a: 'b' }, expiresAt: T0 + MINUTE });

    const next = applyObservation(stored, observation(), [], NOW, schedule);

    expect(next.linkId).toBe(LINK_ID);
    expect(next.registeredAt).toBe(stored.registeredAt);
    expect(next.reference).toBe('ref-1');
    expect(next.metadata).toEqual({ a: 'b' });
    expect(next.expiresAt).toBe(T0 + MINUTE);
  });

  it('does not modify the stored state it is given', () => {
    const stored = storedState();
    const snapshot = structuredClone(stored);

    applyObservation(
      stored,
      observation({ status: 'CLAIMED', activity: SAMPLE_ACTIVITY }),
      [fakeChange],
      NOW,
      schedule,
    );

    expect(stored).toEqual(snapshot);
  });
});

describe('applyFailedCheck', () => {
  it('counts the check and the write and one more consecutive error', () => {
    const stored = storedState({ checks: 4, version: 6, consecutiveErrors: 1 });

    const next = applyFailedCheck(stored, NOW, schedule, TIMEOUT, GIVE_UP);

    expect(next.checks).toBe(5);
    expect(next.version).toBe(7);
    expect(next.consecutiveErrors).toBe(2);
    expect(next.lastCheckedAt).toBe(NOW);
  });

  it('changes neither the status nor what was observed', () => {
    const stored = storedState({ status: 'PROCESSING', sequence: 3, activity: SAMPLE_ACTIVITY.slice(0, 3) });

    const next = applyFailedCheck(stored, NOW, schedule, TIMEOUT, GIVE_UP);

    expect(next.status).toBe('PROCESSING');
    expect(next.amount).toBe(stored.amount);
    expect(next.activity).toEqual(SAMPLE_ACTIVITY.slice(0, 3));
    expect(next.sequence).toBe(3);
    expect(next.lastObservedAt).toBe(stored.lastObservedAt);
    expect(next.lastChangedAt).toBe(stored.lastChangedAt);
    expect(next.firstSeenAt).toBe(stored.firstSeenAt);
    expect(next.upstream).toEqual(stored.upstream);
  });

  it('backs off the next check with the error count', () => {
    const stored = storedState({ status: 'PROCESSING', consecutiveErrors: 2 });

    const next = applyFailedCheck(stored, NOW, schedule, TIMEOUT, GIVE_UP);

    expect(next.nextCheckAt).toBe(NOW + 4 * MINUTE);
  });

  it('hands the schedule the grown error count and the known last change', () => {
    const scheduler = vi.fn<Scheduler>(() => null);
    const stored = storedState({ consecutiveErrors: 0, lastChangedAt: T0 - 7, expiresAt: T0 + MINUTE });

    applyFailedCheck(stored, NOW, scheduler, TIMEOUT, GIVE_UP);

    expect(scheduler).toHaveBeenCalledWith(
      { status: 'ISSUED', lastChangeAt: T0 - 7, consecutiveErrors: 1, expiresAt: T0 + MINUTE },
      NOW,
    );
  });

  it('keeps backing off a never observed link', () => {
    const stored = newLinkState(LINK_ID, T0);

    const next = applyFailedCheck(stored, NOW, schedule, TIMEOUT, GIVE_UP);

    expect(next.status).toBeNull();
    expect(next.firstSeenAt).toBeNull();
    expect(next.nextCheckAt).toBe(NOW + 2 * MINUTE);
  });

  it('leaves a final link unwatched', () => {
    const stored = storedState({ status: 'CLAIMED', activity: SAMPLE_ACTIVITY, nextCheckAt: null });

    expect(applyFailedCheck(stored, NOW, schedule, TIMEOUT, GIVE_UP).nextCheckAt).toBeNull();
  });
});

describe('applyFailedCheck: a link is not watched forever', () => {
  it('records no statuscode when InstantPay gave none (no empty attribute to store)', () => {
    const next = applyFailedCheck(storedState(), NOW, schedule, TIMEOUT, GIVE_UP);

    expect(next.lastError).toStrictEqual({ error: 'UpstreamUnavailableError', at: NOW });
  });

  it('never ends watching a final link, whatever its checks answer', () => {
    const stored = storedState({
      status: 'CLAIMED',
      expiresAt: NOW - 30 * DAY,
      failingSince: NOW - 30 * DAY,
      nextCheckAt: null,
    });

    for (const failure of [TIMEOUT, UNKNOWN_LINK])
      expect(applyFailedCheck(stored, NOW, schedule, failure, GIVE_UP).watchEnded).toBeNull();
  });

  it('gives up by default after 7 days of non-transient errors, or a day past expiresAt', () => {
    const giveUp: GiveUpConfig = DEFAULT_SCHEDULE;
    const failing = storedState({ failingSince: NOW - 7 * DAY });
    const expired = storedState({ expiresAt: NOW - DAY });

    expect(applyFailedCheck(failing, NOW - 1, schedule, UNKNOWN_LINK, giveUp).watchEnded).toBeNull();
    expect(applyFailedCheck(failing, NOW, schedule, UNKNOWN_LINK, giveUp).watchEnded?.reason).toBe(
      'upstream-errors',
    );
    expect(applyFailedCheck(expired, NOW - 1, schedule, TIMEOUT, giveUp).watchEnded).toBeNull();
    expect(applyFailedCheck(expired, NOW, schedule, TIMEOUT, giveUp).watchEnded?.reason).toBe(
      'expired-unreachable',
    );
  });

  it('remembers the first non-transient error and the last error, never a message', () => {
    const stored = storedState({ nextCheckAt: NOW });

    const next = applyFailedCheck(stored, NOW, schedule, UNKNOWN_LINK, GIVE_UP);

    expect(next.failingSince).toBe(NOW);
    expect(next.lastError).toEqual({ error: 'LinkNotFoundError', statuscode: 'ITI', at: NOW });
    expect(next.nextCheckAt).not.toBeNull();
    expect(next.watchEnded).toBeNull();
  });

  it('keeps the start of the streak through later errors, transient ones included', () => {
    const stored = storedState({ failingSince: NOW - DAY, consecutiveErrors: 5 });

    expect(applyFailedCheck(stored, NOW, schedule, UNKNOWN_LINK, GIVE_UP).failingSince).toBe(NOW - DAY);
    expect(applyFailedCheck(stored, NOW, schedule, TIMEOUT, GIVE_UP).failingSince).toBe(NOW - DAY);
  });

  it('stops watching after the give-up period of non-transient errors, and says why', () => {
    const stored = storedState({ failingSince: NOW - 7 * DAY, consecutiveErrors: 200 });

    const next = applyFailedCheck(stored, NOW, schedule, UNKNOWN_LINK, GIVE_UP);

    expect(next.nextCheckAt).toBeNull();
    expect(next.watchEnded).toEqual({ reason: 'upstream-errors', at: NOW });
    expect(next.status).toBe('ISSUED');
  });

  it('keeps watching one millisecond before the give-up period ends', () => {
    const stored = storedState({ failingSince: NOW - 7 * DAY + 1, consecutiveErrors: 200 });

    expect(applyFailedCheck(stored, NOW, schedule, UNKNOWN_LINK, GIVE_UP).watchEnded).toBeNull();
  });

  it('keeps watching through an outage however long (transient errors never end watching)', () => {
    const stored = storedState({ failingSince: null, consecutiveErrors: 10_000 });

    const next = applyFailedCheck(stored, NOW + 30 * DAY, schedule, TIMEOUT, GIVE_UP);

    expect(next.watchEnded).toBeNull();
    expect(next.nextCheckAt).not.toBeNull();
  });

  it('does not end watching on a transient error even past the period; the next non-transient one does', () => {
    const stored = storedState({ failingSince: NOW - 8 * DAY, consecutiveErrors: 50 });

    expect(applyFailedCheck(stored, NOW, schedule, TIMEOUT, GIVE_UP).watchEnded).toBeNull();
    expect(applyFailedCheck(stored, NOW, schedule, UNKNOWN_LINK, GIVE_UP).watchEnded?.reason).toBe(
      'upstream-errors',
    );
  });

  it('retries a failing check past expiresAt within the grace, then stops watching', () => {
    const expiresAt = NOW - HOUR;
    const within = applyFailedCheck(storedState({ expiresAt }), NOW, schedule, TIMEOUT, GIVE_UP);
    expect(within.nextCheckAt).not.toBeNull();

    const past = applyFailedCheck(storedState({ expiresAt }), expiresAt + DAY, schedule, TIMEOUT, GIVE_UP);
    expect(past.nextCheckAt).toBeNull();
    expect(past.watchEnded).toEqual({ reason: 'expired-unreachable', at: expiresAt + DAY });
  });

  it('compresses the give-up period with the schedule', () => {
    const stored = storedState({ failingSince: NOW - (7 * DAY) / 60 });

    const next = applyFailedCheck(stored, NOW, schedule, UNKNOWN_LINK, { ...GIVE_UP, scale: 1 / 60 });

    expect(next.watchEnded?.reason).toBe('upstream-errors');
  });

  it('compresses the grace past expiresAt with the schedule', () => {
    const local = { ...GIVE_UP, scale: 1 / 60 };
    const stored = storedState({ expiresAt: NOW - DAY / 60 });

    expect(applyFailedCheck(stored, NOW - 1, schedule, TIMEOUT, local).watchEnded).toBeNull();
    expect(applyFailedCheck(stored, NOW, schedule, TIMEOUT, local).watchEnded?.reason).toBe(
      'expired-unreachable',
    );
  });
});

describe('applyObservation: watching', () => {
  it('a successful check clears the error streak and watches the link again', () => {
    const stored = storedState({
      failingSince: NOW - DAY,
      lastError: { error: 'LinkNotFoundError', at: NOW - MINUTE },
      watchEnded: { reason: 'upstream-errors', at: NOW - MINUTE },
      nextCheckAt: null,
    });

    const next = applyObservation(stored, observation(), [], NOW, schedule);

    expect(next).toMatchObject({ failingSince: null, lastError: null, watchEnded: null });
    expect(next.nextCheckAt).not.toBeNull();
  });

  it('a scheduled check that finds the link unwatched leaves it unwatched, with its reason', () => {
    const stored = storedState({ watchEnded: { reason: 'unwatched', at: NOW - 5 }, nextCheckAt: null });
    const observed = observation({ status: 'PROCESSING' });

    const next = applyObservation(stored, observed, changesFor(stored, observed), NOW, schedule, {
      keepUnwatched: true,
    });

    expect(next.status).toBe('PROCESSING');
    expect(next.nextCheckAt).toBeNull();
    expect(next.watchEnded).toEqual({ reason: 'unwatched', at: NOW - 5 });
  });

  it('a scheduled check of a watched link keeps it watched', () => {
    const stored = storedState({ nextCheckAt: NOW });

    const next = applyObservation(stored, observation(), [], NOW, schedule, { keepUnwatched: true });

    expect(next.nextCheckAt).not.toBeNull();
    expect(next.watchEnded).toBeNull();
  });
});
