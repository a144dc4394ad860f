import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DiffContext, type DiffResult, diffObservation } from '#shared/link/diff-observation.ts';
import { ACTIVITY_ADDED, eventIdFor, type LinkChange, STATUS_CHANGED } from '#shared/link/link-event.ts';
import { newLinkState } from '#shared/link/link-state.ts';
import { LINK_ID, observation, SAMPLE_ACTIVITY, storedState, T0 } from './fixtures.ts';

const CONTEXT: DiffContext = { trigger: 'scheduled', stage: 'test' };

function onlyChange(result: DiffResult): LinkChange {
  expect(result.kind).toBe('changed');
  if (result.kind !== 'changed') throw new Error('expected a change');
  expect(result.changes).toHaveLength(1);
  return result.changes[0]!;
}

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const linkIds = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const sequences = fc.integer({ min: 1, max: 1_000_000 });

describe('diffObservation', () => {
  it('records the first observation of a never-stored link as a status change from null with every entry', () => {
    const observed = observation({ activity: SAMPLE_ACTIVITY });

    const change = onlyChange(diffObservation(null, observed, CONTEXT));

    expect(change.detailType).toBe(STATUS_CHANGED);
    expect(change.detail).toEqual({
      eventId: eventIdFor(LINK_ID, 1),
      linkId: LINK_ID,
      sequence: 1,
      previousStatus: null,
      status: 'ISSUED',
      final: false,
      amount: 120.11,
      activity: SAMPLE_ACTIVITY,
      observedAt: new Date(T0 + 250).toISOString(),
      trigger: 'scheduled',
      stage: 'test',
      upstream: {
        ipayUuid: 'h0009ad8a2eb-7790-4fe2-a9af-8cdb732d668c-WbrjDVgsp8oy',
        timestamp: '2023-12-14 16:42:49',
        environment: 'PRODUCTION',
      },
    });
  });

  it('records the first observation of a registered but never observed link as a change from null', () => {
    const stored = newLinkState(LINK_ID, T0 - 1_000);
    const observed = observation({ activity: SAMPLE_ACTIVITY.slice(0, 1) });

    const change = onlyChange(diffObservation(stored, observed, { trigger: 'on-demand', stage: 'dev' }));

    expect(change.detailType).toBe(STATUS_CHANGED);
    expect(change.detail.previousStatus).toBeNull();
    expect(change.detail.sequence).toBe(1);
    expect(change.detail.activity).toEqual(SAMPLE_ACTIVITY.slice(0, 1));
    expect(change.detail.trigger).toBe('on-demand');
    expect(change.detail.stage).toBe('dev');
  });

  it('carries only the entries new since the stored ones on a status change', () => {
    const stored = storedState({ sequence: 4 });
    const observed = observation({ status: 'CLAIMED', activity: SAMPLE_ACTIVITY });

    const change = onlyChange(diffObservation(stored, observed, CONTEXT));

    expect(change.detailType).toBe(STATUS_CHANGED);
    expect(change.detail.previousStatus).toBe('ISSUED');
    expect(change.detail.status).toBe('CLAIMED');
    expect(change.detail.sequence).toBe(5);
    expect(change.detail.eventId).toBe(eventIdFor(LINK_ID, 5));
    expect(change.detail.activity).toEqual(SAMPLE_ACTIVITY.slice(2));
  });

  it('reports new entries under an unchanged status as Activity Added', () => {
    const stored = storedState({ activity: SAMPLE_ACTIVITY.slice(0, 1), sequence: 2 });
    const observed = observation({ activity: SAMPLE_ACTIVITY.slice(0, 3) });

    const change = onlyChange(diffObservation(stored, observed, CONTEXT));

    expect(change.detailType).toBe(ACTIVITY_ADDED);
    expect(change.detail.previousStatus).toBe('ISSUED');
    expect(change.detail.status).toBe('ISSUED');
    expect(change.detail.sequence).toBe(3);
    expect(change.detail.activity).toEqual(SAMPLE_ACTIVITY.slice(1, 3));
  });

  it('reports nothing when neither the status nor the activity moved', () => {
    const stored = storedState();
    const observed = observation({ amount: 99, ipayUuid: 'another-request' });

    expect(diffObservation(stored, observed, CONTEXT)).toEqual({ kind: 'unchanged' });
  });

  it('reports nothing when the upstream answers fewer entries than stored under the same status', () => {
    const stored = storedState({ activity: SAMPLE_ACTIVITY.slice(0, 3) });
    const observed = observation({ activity: SAMPLE_ACTIVITY.slice(0, 1) });

    expect(diffObservation(stored, observed, CONTEXT)).toEqual({ kind: 'unchanged' });
  });

  it('carries no activity on a status change when the upstream answers fewer entries than stored', () => {
    const stored = storedState({ activity: SAMPLE_ACTIVITY.slice(0, 3) });
    const observed = observation({ status: 'PROCESSING', activity: SAMPLE_ACTIVITY.slice(0, 1) });

    const change = onlyChange(diffObservation(stored, observed, CONTEXT));

    expect(change.detailType).toBe(STATUS_CHANGED);
    expect(change.detail.activity).toEqual([]);
  });

  it('treats an observation started before the stored newest observation as stale', () => {
    const stored = storedState({ lastObservedAt: T0 + 1_000 });
    const observed = observation({ status: 'CLAIMED', activity: SAMPLE_ACTIVITY, startedAt: T0 + 999 });

    expect(diffObservation(stored, observed, CONTEXT)).toEqual({ kind: 'stale' });
  });

  it('accepts an observation started exactly when the stored newest one was read', () => {
    const stored = storedState({ lastObservedAt: T0 });
    const observed = observation({ status: 'PROCESSING', startedAt: T0 });

    expect(diffObservation(stored, observed, CONTEXT).kind).toBe('changed');
  });

  it('carries the stored reference and metadata into the detail', () => {
    const stored = storedState({ reference: 'invoice-42', metadata: { customer: 'c-7', region: 'south' } });
    const observed = observation({ status: 'PROCESSING' });

    const change = onlyChange(diffObservation(stored, observed, CONTEXT));

    expect(change.detail.reference).toBe('invoice-42');
    expect(change.detail.metadata).toEqual({ customer: 'c-7', region: 'south' });
  });

  it('leaves reference and metadata out of the detail when the link has none', () => {
    const change = onlyChange(diffObservation(storedState(), observation({ status: 'PROCESSING' }), CONTEXT));

    expect(change.detail).not.toHaveProperty('reference');
    expect(change.detail).not.toHaveProperty('metadata');
  });

  it.each([
    ['CLAIMED', true],
    ['CANCELLED', true],
    ['EXPIRED', true],
    ['ISSUED', false],
    ['PROCESSING', false],
    ['ON_HOLD', false],
  ])('marks status %s as final: %s', (status, final) => {
    const stored = storedState({ status: 'SOMETHING_ELSE' });

    const change = onlyChange(diffObservation(stored, observation({ status }), CONTEXT));

    expect(change.detail.final).toBe(final);
  });

  it('keeps an unknown status as InstantPay sent it', () => {
    const change = onlyChange(diffObservation(storedState(), observation({ status: 'ON_HOLD' }), CONTEXT));

    expect(change.detailType).toBe(STATUS_CHANGED);
    expect(change.detail.status).toBe('ON_HOLD');
    expect(change.detail.previousStatus).toBe('ISSUED');
  });

  it('gives the event the id derived from the link id and its sequence', () => {
    fc.assert(
      fc.property(linkIds, fc.nat({ max: 100_000 }), (linkId, storedSequence) => {
        const stored = { ...storedState({ sequence: storedSequence }), linkId };
        const change = onlyChange(
          diffObservation(stored, observation({ linkId, status: 'PROCESSING' }), CONTEXT),
        );

        expect(change.detail.sequence).toBe(storedSequence + 1);
        expect(change.detail.eventId).toBe(eventIdFor(linkId, storedSequence + 1));
      }),
    );
  });
});

describe('diffObservation: a final status is final', () => {
  const FINAL = ['CLAIMED', 'CANCELLED', 'EXPIRED'];
  const anyStatus = fc.oneof(
    fc.constantFrom('ISSUED', 'PROCESSING', 'CLAIMED', 'CANCELLED', 'EXPIRED'),
    fc.stringMatching(/^[A-Z_]{1,12}$/),
  );

  it.each(FINAL)(
    'records nothing when InstantPay answers ISSUED after %s, and calls it a conflict',
    (status) => {
      const stored = storedState({ status, activity: SAMPLE_ACTIVITY, sequence: 3 });

      const result = diffObservation(stored, observation({ status: 'ISSUED' }), CONTEXT);

      expect(result).toEqual({ kind: 'final', recorded: status, observed: 'ISSUED', conflict: true });
    },
  );

  it('records no activity event for entries that arrive after the final status', () => {
    const stored = storedState({ status: 'CLAIMED', activity: SAMPLE_ACTIVITY.slice(0, 3) });

    const result = diffObservation(
      stored,
      observation({ status: 'CLAIMED', activity: SAMPLE_ACTIVITY }),
      CONTEXT,
    );

    expect(result).toEqual({ kind: 'final', recorded: 'CLAIMED', observed: 'CLAIMED', conflict: false });
  });

  it('never produces a change for a link stored with a final status, whatever InstantPay answers', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FINAL), anyStatus, fc.nat({ max: 4 }), (status, answered, extra) => {
        const stored = storedState({ status, activity: SAMPLE_ACTIVITY.slice(0, 2) });
        const observed = observation({ status: answered, activity: SAMPLE_ACTIVITY.slice(0, 2 + extra) });

        const result = diffObservation(stored, observed, CONTEXT);

        expect(result.kind).toBe('final');
        expect(result).toMatchObject({ conflict: answered !== status });
      }),
    );
  });

  it('still ignores a stale observation of a final link as stale', () => {
    const stored = storedState({ status: 'CLAIMED', lastObservedAt: T0 + 1_000 });

    expect(diffObservation(stored, observation({ status: 'ISSUED', startedAt: T0 }), CONTEXT)).toEqual({
      kind: 'stale',
    });
  });
});

describe('eventIdFor', () => {
  it('gives the same id for the same link and sequence', () => {
    fc.assert(
      fc.property(linkIds, sequences, (linkId, sequence) => {
        expect(eventIdFor(linkId, sequence)).toBe(eventIdFor(linkId, sequence));
      }),
    );
  });

  it('gives different ids for a different link or sequence', () => {
    fc.assert(
      fc.property(linkIds, sequences, linkIds, sequences, (linkA, seqA, linkB, seqB) => {
        fc.pre(linkA !== linkB || seqA !== seqB);

        expect(eventIdFor(linkA, seqA)).not.toBe(eventIdFor(linkB, seqB));
      }),
    );
  });

  it('gives different ids for consecutive sequences of one link', () => {
    fc.assert(
      fc.property(linkIds, sequences, (linkId, sequence) => {
        expect(eventIdFor(linkId, sequence)).not.toBe(eventIdFor(linkId, sequence + 1));
      }),
    );
  });

  it('shapes the id as a name-based (version 5) UUID', () => {
    fc.assert(
      fc.property(linkIds, sequences, (linkId, sequence) => {
        expect(eventIdFor(linkId, sequence)).toMatch(UUID_V5);
      }),
    );
  });
});
