import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';
import { EventPublisher, type PublishResult } from '#shared/events/event-publisher.ts';
import type { LinkChange } from '#shared/link/link-event.ts';
import { registerAll, runSchedule } from '#test/support/ledger.ts';
import { report, scenarioFile, scenarioWorld } from './scenario.ts';

const clock = new ManualClock(Date.parse('2026-12-01T10:00:00Z'));
const file = scenarioFile(clock);
const { logs } = file;

/** A publisher whose process "dies" after the DynamoDB transaction and before `PutEvents`, `crashes` times. */
class CrashingPublisher extends EventPublisher {
  crashes = 0;
  readonly lost: LinkChange[] = [];
  override async publish(changes: readonly LinkChange[]): Promise<PublishResult> {
    if (this.crashes > 0) {
      this.crashes--;
      this.lost.push(...changes);
      throw new Error('the process died between the DynamoDB transaction and PutEvents');
    }
    return super.publish(changes);
  }
}

describe('reliability: every recorded change reaches the bus (the outbox)', () => {
  it('1. the process dies between the transaction and PutEvents: the next scheduled run republishes', {
    timeout: 90_000,
  }, async () => {
    let publisher!: CrashingPublisher;
    const { world, links, ledger } = await scenarioWorld(
      'crash',
      { sandbox: file.sandbox, clock },
      {
        trackerOverrides: {
          publisher: (names) => {
            publisher = new CrashingPublisher({ eventBusName: names.bus });
            return publisher;
          },
        },
      },
    );
    logs.add(world.log.lines);
    await registerAll(world.call, links);
    const onDemand = links.find((link) => link.kind.name === 'claimed')!;
    let crashedOnDemand: LinkChange[] = [];
    let lostByTheRun = 0;

    const runs = await runSchedule({
      clock,
      tracker: world.tracker,
      store: world.sweep,
      ledger,
      log: world.log.logger,
      before: async (minute) => {
        // The scheduled run dies after its first batch of transactions.
        if (minute === 1) publisher.crashes = 1;
        if (minute === 2) {
          // An API call dies the same way: the change is recorded, the caller gets a 500.
          publisher.crashes = 1;
          const response = await world.call('GET', `/links/${onDemand.linkId}`);
          expect(response.status).toBe(500);
          expect(response.body).toMatchObject({ status: 500, title: 'Internal error' });
          crashedOnDemand = publisher.lost.slice(-1);
          expect(crashedOnDemand.map((c) => [c.detail.linkId, c.detail.status])).toEqual([
            [onDemand.linkId, 'CLAIMED'],
          ]);
        }
      },
      after: async (minute, run) => {
        if (minute === 1) {
          // The batch that never left (the run's first PutEvents batch: up to 10) is in the outbox, exactly.
          lostByTheRun = publisher.lost.length;
          expect(lostByTheRun).toBeGreaterThan(0);
          expect(lostByTheRun).toBeLessThanOrEqual(10);
          expect(run.summary?.unpublished).toBe(lostByTheRun);
          const outbox = await world.sweep.listUnpublished(100);
          expect(outbox.map((c) => c.detail.eventId).sort()).toEqual(
            publisher.lost.map((c) => c.detail.eventId).sort(),
          );
        }
        if (minute === 2) {
          // The next run republished the lost batch first thing; the API call's change, recorded
          // moments ago, is left to its own writer for 30 s (REPUBLISH_AFTER_MS)...
          expect(run.summary?.republished).toBe(lostByTheRun);
          expect(run.summary?.unpublished).toBe(0);
          const outbox = await world.sweep.listUnpublished(100);
          expect(outbox.map((c) => c.detail.eventId)).toEqual(crashedOnDemand.map((c) => c.detail.eventId));
        }
        // ...and the run after republishes it.
        if (minute === 3) expect(run.summary?.republished).toBe(1);
      },
    });
    expect(runs.map((run) => run.error).filter(Boolean)).toEqual([]);
    const ledgerReport = await ledger.verify();
    const seenIds = new Set(ledger.seen.map((event) => event.detail.eventId));
    for (const change of publisher.lost) expect(seenIds.has(change.detail.eventId)).toBe(true);
    report('1-crash-before-put-events', ledgerReport, runs, { lost: publisher.lost.length });
    await world.close();
  });

  it('2. PutEvents throttled, then partially failing, for a while: every change reaches the bus once it recovers', {
    timeout: 90_000,
  }, async () => {
    // The publisher's own client: mocked while the bus misbehaves, restored afterwards. A second
    // client sends the entries a partial failure lets through to the real bus.
    const eventBridge = new EventBridgeClient(AWS_CLIENT_CONFIG);
    const realBus = new EventBridgeClient(AWS_CLIENT_CONFIG);
    const { world, links, ledger } = await scenarioWorld(
      'throttled-bus',
      { sandbox: file.sandbox, clock },
      {
        trackerOverrides: {
          publisher: (names) =>
            new EventPublisher({ eventBusName: names.bus, client: eventBridge, sleep: async () => {} }),
        },
      },
    );
    logs.add(world.log.lines);
    await registerAll(world.call, links);
    const mock = mockClient(eventBridge);
    onTestFinished(() => mock.restore());
    let calls = 0;
    let refusedEntries = 0;
    const partialFailure = async (input: PutEventsCommandInput) => {
      calls++;
      const entries = input.Entries ?? [];
      // Two entries in three refused, a different two on each call (as throttling would).
      const refused = entries.map((_, index) => (calls + index) % 3 !== 2);
      const passing = entries.filter((_, index) => !refused[index]);
      const sent = passing.length
        ? await realBus.send(new PutEventsCommand({ Entries: passing }))
        : { Entries: [] as PutEventsResultEntry[] };
      let next = 0;
      const results = entries.map((_, index): PutEventsResultEntry => {
        if (!refused[index]) return sent.Entries?.[next++] ?? {};
        refusedEntries++;
        return { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' };
      });
      return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
    };
    const onDemand = links.find((link) => link.kind.name === 'claimed')!;

    const runs = await runSchedule({
      clock,
      tracker: world.tracker,
      store: world.sweep,
      ledger,
      log: world.log.logger,
      before: async (minute) => {
        if (minute === 1) {
          mock
            .on(PutEventsCommand)
            .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
          // A failed publish never fails the API call: the change is recorded, the bus gets it later.
          const response = await world.call('GET', `/links/${onDemand.linkId}`);
          expect(response.status).toBe(200);
          expect(response.body).toMatchObject({ status: 'PROCESSING', sequence: 2 });
        }
        if (minute === 2) {
          mock.reset();
          mock.on(PutEventsCommand).callsFake(partialFailure);
        }
        if (minute === 3) mock.restore();
      },
      after: async (minute, run) => {
        if (minute === 1) {
          // Nothing left the process; all of it waits in the outbox (the API call's change too).
          expect(run.summary?.unpublished).toBe(run.summary?.transitionsRecorded);
          const outbox = await world.sweep.listUnpublished(1_000);
          expect(outbox).toHaveLength((run.summary?.transitionsRecorded ?? 0) + 1);
        }
        if (minute === 2) {
          expect(run.summary?.republished).toBeGreaterThan(0);
          expect(run.summary?.unpublished).toBeGreaterThan(0);
        }
      },
    });
    expect(runs.map((run) => run.error).filter(Boolean)).toEqual([]);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(refusedEntries).toBeGreaterThan(0);
    const ledgerReport = await ledger.verify();
    report('2-put-events-throttled', ledgerReport, runs, { refusedEntries });
    await world.close();
  });

  it('logged nothing secret or personal', () => {
    expect(logs.lineCount).toBeGreaterThan(0);
    logs.expectClean();
  });
});
