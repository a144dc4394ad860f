import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  batches,
  EventPublisher,
  type EventPublisherOptions,
  entrySize,
  MAX_BYTES_PER_CALL,
  MAX_ENTRIES_PER_CALL,
} from '#shared/events/event-publisher.ts';
import {
  ACTIVITY_ADDED,
  type DetailType,
  EVENT_SOURCE,
  eventIdFor,
  type LinkChange,
  STATUS_CHANGED,
} from '#shared/link/link-event.ts';

const BUS = 'payout-link-tracker-test';
const OBSERVED_AT = '2023-12-14T11:12:49.250Z';

function change(index: number, overrides: { detailType?: DetailType; padding?: number } = {}): LinkChange {
  const linkId = `link-${String(index).padStart(3, '0')}`;
  return {
    detailType: overrides.detailType ?? STATUS_CHANGED,
    detail: {
      eventId: eventIdFor(linkId, 1),
      linkId,
      sequence: 1,
      previousStatus: null,
      status: 'ISSUED',
      final: false,
      amount: 120.11,
      activity: [{ status: 'Payout link created', activityAt: '2023-12-12 14:51:25' }],
      observedAt: OBSERVED_AT,
      trigger: 'scheduled',
      stage: 'test',
      ...(overrides.padding === undefined ? {} : { metadata: { padding: 'x'.repeat(overrides.padding) } }),
      upstream: { ipayUuid: 'uuid', timestamp: '2023-12-14 16:42:49', environment: 'PRODUCTION' },
    },
  };
}

const changes = (count: number) => Array.from({ length: count }, (_, index) => change(index));

const eventBridge = mockClient(EventBridgeClient);

function publisher(options: Partial<EventPublisherOptions> = {}) {
  return new EventPublisher({
    eventBusName: BUS,
    client: new EventBridgeClient({ region: 'ap-south-1' }),
    sleep: async () => {},
    ...options,
  });
}

/** The entries of each `PutEvents` call, in call order. */
function sentEntries(): PutEventsRequestEntry[][] {
  return eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);
}

function linkIdOf(entry: PutEventsRequestEntry): string {
  return (JSON.parse(entry.Detail!) as { linkId: string }).linkId;
}

/** Answers like EventBridge: every entry accepted except those `fails` picks. */
function answerWith(fails: (entry: PutEventsRequestEntry, call: number) => string | undefined) {
  let call = 0;
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    call += 1;
    const entries: PutEventsResultEntry[] = input.Entries.map((entry, index) => {
      const errorCode = fails(entry, call);
      return errorCode
        ? { ErrorCode: errorCode, ErrorMessage: `${errorCode} for ${linkIdOf(entry)}` }
        : { EventId: `event-${call}-${index}` };
    });
    return { FailedEntryCount: entries.filter((entry) => entry.ErrorCode).length, Entries: entries };
  });
}

function throttling(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
}

beforeEach(() => {
  eventBridge.reset();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('EventPublisher', () => {
  it('publishes 25 changes in three calls of 10, 10 and 5 entries', async () => {
    answerWith(() => undefined);
    const all = changes(25);

    const result = await publisher().publish(all);

    expect(sentEntries().map((entries) => entries.length)).toEqual([10, 10, 5]);
    expect(sentEntries().flat().map(linkIdOf)).toEqual(all.map((c) => c.detail.linkId));
    expect(result.published).toEqual(all);
    expect(result.failed).toEqual([]);
  });

  it('sends each entry with the contract source, detail type, bus and JSON detail', async () => {
    answerWith(() => undefined);
    const statusChange = change(1);
    const activityAdded = change(2, { detailType: ACTIVITY_ADDED });

    await publisher().publish([statusChange, activityAdded]);

    expect(sentEntries()).toEqual([
      [
        {
          EventBusName: BUS,
          Source: 'payout-link-tracker',
          DetailType: 'Payout Link Status Changed',
          Detail: JSON.stringify(statusChange.detail),
          Time: new Date(OBSERVED_AT),
        },
        {
          EventBusName: BUS,
          Source: 'payout-link-tracker',
          DetailType: 'Payout Link Activity Added',
          Detail: JSON.stringify(activityAdded.detail),
          Time: new Date(OBSERVED_AT),
        },
      ],
    ]);
    expect(EVENT_SOURCE).toBe('payout-link-tracker');
  });

  it('makes no call when there is nothing to publish', async () => {
    answerWith(() => undefined);

    const result = await publisher().publish([]);

    expect(sentEntries()).toEqual([]);
    expect(result).toEqual({ published: [], failed: [] });
  });

  it('splits batches so no call carries more than 256 KB', async () => {
    answerWith(() => undefined);
    const big = [0, 1, 2, 3].map((index) => change(index, { padding: 100_000 }));

    const result = await publisher().publish(big);

    const calls = sentEntries();
    expect(calls.map((entries) => entries.length)).toEqual([2, 2]);
    for (const entries of calls) {
      const bytes = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
      expect(bytes).toBeLessThanOrEqual(MAX_BYTES_PER_CALL);
    }
    expect(result.published).toHaveLength(4);
  });

  it('retries only the entries EventBridge failed', async () => {
    answerWith((entry, call) =>
      call === 1 && ['link-001', 'link-003'].includes(linkIdOf(entry)) ? 'InternalFailure' : undefined,
    );
    const all = changes(5);

    const result = await publisher().publish(all);

    expect(sentEntries().map((entries) => entries.map(linkIdOf))).toEqual([
      ['link-000', 'link-001', 'link-002', 'link-003', 'link-004'],
      ['link-001', 'link-003'],
    ]);
    expect(result.failed).toEqual([]);
    expect(result.published.map((c) => c.detail.linkId).sort()).toEqual(all.map((c) => c.detail.linkId));
  });

  it('returns what still fails after maxAttempts without throwing', async () => {
    answerWith((entry) => (linkIdOf(entry) === 'link-002' ? 'ThrottlingException' : undefined));
    const sleep = vi.fn(async (_ms: number) => {});
    const backoffMs = vi.fn((attempt: number) => attempt * 100);
    const all = changes(4);

    const result = await publisher({ maxAttempts: 3, sleep, backoffMs }).publish(all);

    expect(sentEntries().map((entries) => entries.map(linkIdOf))).toEqual([
      ['link-000', 'link-001', 'link-002', 'link-003'],
      ['link-002'],
      ['link-002'],
    ]);
    expect(result.published).toEqual([all[0], all[1], all[3]]);
    expect(result.failed).toEqual([
      { change: all[2], errorCode: 'ThrottlingException', errorMessage: 'ThrottlingException for link-002' },
    ]);
    expect(sleep.mock.calls).toEqual([[100], [200]]);
  });

  it('makes a single attempt when maxAttempts is 1', async () => {
    answerWith(() => 'InternalFailure');

    const result = await publisher({ maxAttempts: 1 }).publish(changes(3));

    expect(sentEntries()).toHaveLength(1);
    expect(result.failed.map((failure) => failure.errorCode)).toEqual([
      'InternalFailure',
      'InternalFailure',
      'InternalFailure',
    ]);
  });

  it('reports an entry answered without an event id or error code as failed', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ EventId: 'e-1' }, {}] });
    const all = changes(2);

    const result = await publisher({ maxAttempts: 1 }).publish(all);

    expect(result.published).toEqual([all[0]]);
    expect(result.failed).toEqual([
      { change: all[1], errorCode: 'Unknown', errorMessage: 'No event id returned.' },
    ]);
  });

  it('retries a whole call that throws, then returns its entries as failed', async () => {
    eventBridge.on(PutEventsCommand).rejects(throttling());
    const all = changes(12);

    const result = await publisher({ maxAttempts: 3 }).publish(all);

    expect(sentEntries().map((entries) => entries.length)).toEqual([10, 2, 10, 2, 10, 2]);
    expect(result.published).toEqual([]);
    expect(result.failed).toHaveLength(12);
    expect(result.failed.map((failure) => failure.change)).toEqual(all);
    for (const failure of result.failed) {
      expect(failure.errorCode).toBe('ThrottlingException');
      expect(failure.errorMessage).toBe('Rate exceeded');
    }
  });

  it('publishes everything when a throttled call succeeds on retry', async () => {
    eventBridge.on(PutEventsCommand).rejectsOnce(throttling()).resolves({ FailedEntryCount: 0, Entries: [] });
    const all = changes(3);

    const result = await publisher().publish(all);

    expect(sentEntries()).toHaveLength(2);
    expect(result).toEqual({ published: all, failed: [] });
  });

  it('fails an entry over 256 KB with EntryTooLarge without sending it', async () => {
    answerWith(() => undefined);
    const huge = change(9, { padding: MAX_BYTES_PER_CALL });

    const result = await publisher().publish([huge]);

    expect(sentEntries()).toEqual([]);
    expect(result.published).toEqual([]);
    expect(result.failed).toEqual([
      { change: huge, errorCode: 'EntryTooLarge', errorMessage: expect.any(String) },
    ]);
  });

  it('still publishes the other entries next to one over 256 KB', async () => {
    answerWith(() => undefined);
    const huge = change(9, { padding: MAX_BYTES_PER_CALL });
    const small = changes(2);

    const result = await publisher().publish([small[0]!, huge, small[1]!]);

    expect(sentEntries().map((entries) => entries.map(linkIdOf))).toEqual([['link-000', 'link-001']]);
    expect(result.published).toEqual(small);
    expect(result.failed.map((failure) => failure.errorCode)).toEqual(['EntryTooLarge']);
  });
});

describe('entrySize', () => {
  it('counts source, detail type, detail and resources in UTF-8 bytes, plus the time', () => {
    const entry: PutEventsRequestEntry = {
      EventBusName: 'ignored-bus-name',
      Source: 'src',
      DetailType: 'type',
      Detail: '{"name":"€"}',
      Resources: ['arn:1'],
      Time: new Date(0),
    };

    expect(entrySize(entry)).toBe(14 + 3 + 4 + 14 + 5);
    expect(entrySize({ ...entry, Time: undefined })).toBe(3 + 4 + 14 + 5);
  });
});

describe('batches', () => {
  it('keeps the items in order within 10 items and 256 KB per batch', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: MAX_BYTES_PER_CALL }), { maxLength: 60 }), (sizes) => {
        const items = sizes.map((size, index) => ({ index, size }));

        const result = batches(items, (item) => item.size);

        expect(result.flat()).toEqual(items);
        for (const batch of result) {
          expect(batch.length).toBeGreaterThan(0);
          expect(batch.length).toBeLessThanOrEqual(MAX_ENTRIES_PER_CALL);
          expect(batch.reduce((sum, item) => sum + item.size, 0)).toBeLessThanOrEqual(MAX_BYTES_PER_CALL);
        }
      }),
    );
  });

  it('fills a batch to 10 entries before starting the next', () => {
    const result = batches(
      Array.from({ length: 21 }, (_, index) => index),
      () => 1,
    );

    expect(result.map((batch) => batch.length)).toEqual([10, 10, 1]);
  });

  it('puts an item exactly at the byte limit alone', () => {
    expect(batches([1, MAX_BYTES_PER_CALL, 1], (size) => size)).toEqual([[1], [MAX_BYTES_PER_CALL], [1]]);
  });

  it('answers no batch for no items', () => {
    expect(batches([], () => 1)).toEqual([]);
  });
});
