/**
 * Batching (issue 8): entries per `PutEvents` call during one recheck run that records at least 100
 * changes. The run is the sweep of `sweep-throughput.ts` (in-memory table, sandbox in its own process
 * answering each track call in 50 ms, concurrency 16), every link moving from `ISSUED` to
 * `PROCESSING` between its registration and the run. Changes go out through the real
 * `EventPublisher` (through the run's `PublishBuffer`) to an EventBridge client whose transport is
 * replaced by an SDK middleware that counts each call and its entries and accepts them all, so the
 * figure is the publisher's batching, not the emulator.
 */
import { EventBridgeClient, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { EventPublisher, MAX_ENTRIES_PER_CALL } from '#shared/events/event-publisher.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { LinkRegistrations } from '#shared/tracker/link-registrations.ts';
import { onCleanup, progress } from './cleanup.ts';
import { atLeast, type Benchmark, type Figure } from './figures.ts';
import { MemoryLinkStore } from './memory-link-store.ts';
import { startSandboxProcess } from './sandbox-process.ts';
import { inParallel, OffsetClock, sandboxUpstream, sweepAllDue } from './sweep-throughput.ts';

const LINKS = 200;
const CONCURRENCY = 16;
/** Registration must be over before the sandbox moves the links: it takes about a second. */
const MOVES_AFTER_MS = 6_000;
const TARGET = atLeast(9);
const LIMIT = `${MAX_ENTRIES_PER_CALL} entries per PutEvents call (EventBridge's limit)`;

/** An EventBridge client that answers every `PutEvents` itself, counting calls and entries. */
function countingEventBridge(): { client: EventBridgeClient; calls: number[] } {
  const client = new EventBridgeClient({
    region: 'ap-south-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const calls: number[] = [];
  client.middlewareStack.add(
    () => async (args) => {
      const entries = (args.input as PutEventsCommandInput).Entries ?? [];
      calls.push(entries.length);
      return {
        output: {
          $metadata: {},
          FailedEntryCount: 0,
          Entries: entries.map((_, index) => ({ EventId: `bench-${calls.length}-${index}` })),
        },
        response: {},
      };
    },
    { step: 'initialize', name: 'benchAcceptPutEvents' },
  );
  return { client, calls };
}

async function batchingFigures(): Promise<Figure[]> {
  const sandbox = await startSandboxProcess();
  const closeSandbox = onCleanup(() => sandbox.close());
  try {
    const clock = new OffsetClock();
    const upstream = sandboxUpstream(sandbox.url, clock);
    const store = new MemoryLinkStore();
    const eventBridge = countingEventBridge();
    const config = loadRuntimeConfig({
      STAGE: 'bench',
      TABLE_NAME: store.tableName,
      EVENT_BUS_NAME: 'bench',
      INSTANTPAY_SECRET_NAME: 'bench/unused',
    });
    const tracker = createTracker(config, {
      store,
      upstream,
      publisher: new EventPublisher({ eventBusName: 'bench', client: eventBridge.client }),
      clock,
    });

    progress(
      `batching: registering ${LINKS} links that move to PROCESSING ${MOVES_AFTER_MS / 1000} s after creation`,
    );
    // A link moves `MOVES_AFTER_MS` after its own creation: registration must end before the first
    // moves, the sweep must start after the last has.
    const firstCreated = Date.now();
    const links: string[] = [];
    await inParallel(LINKS, CONCURRENCY, async () => {
      links.push(
        await sandbox.createLink({
          amount: 100,
          timeline: [
            { afterMs: 0, status: 'ISSUED' },
            { afterMs: MOVES_AFTER_MS, status: 'PROCESSING' },
          ],
        }),
      );
    });
    const lastCreated = Date.now();
    let next = 0;
    await inParallel(LINKS, CONCURRENCY, async () => {
      const linkId = links[next++] as string;
      const { state } = await new LinkRegistrations({ tracker, store }).register(linkId, {});
      if (state.status !== 'ISSUED') throw new Error(`link ${linkId} was ${state.status} at registration`);
    });
    if (Date.now() >= firstCreated + MOVES_AFTER_MS) {
      throw new Error(`registering ${LINKS} links took longer than ${MOVES_AFTER_MS} ms`);
    }
    const registrationCalls = eventBridge.calls.length;
    eventBridge.calls.length = 0;
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, lastCreated + MOVES_AFTER_MS + 300 - Date.now())),
    );

    const { summary, seconds } = await sweepAllDue(tracker, store, sandbox, clock);
    await sandbox.clearFaults();

    const calls = eventBridge.calls;
    const entries = calls.reduce((sum, count) => sum + count, 0);
    if (summary.transitionsRecorded < 100) {
      throw new Error(`the sweep recorded ${summary.transitionsRecorded} changes, fewer than 100`);
    }
    progress(
      `batching: ${summary.transitionsRecorded} changes in ${seconds.toFixed(2)} s, ${entries} entries in ${calls.length} PutEvents calls (registration made ${registrationCalls})`,
    );
    return [
      {
        key: 'putEventsEntriesPerCall',
        value: entries / calls.length,
        unit: 'entries',
        target: TARGET,
        limit: LIMIT,
        note: `${entries} entries in ${calls.length} calls (sizes ${[...new Set(calls)].sort((a, b) => b - a).join('/')}); ${summary.transitionsRecorded} changes recorded by one sweep of ${summary.linksChecked} links, ${summary.unpublished} left unpublished`,
      },
      {
        key: 'changesPerSecond',
        of: 'putEventsEntriesPerCall',
        value: summary.transitionsRecorded / seconds,
        unit: 'changes/s',
        limit: 'the rate the buffer filled at (it flushes at 10 entries or after 1 s)',
      },
    ];
  } finally {
    await closeSandbox();
  }
}

export const putEventsBatching: Benchmark = {
  name: 'PutEvents batching',
  figures: [{ key: 'putEventsEntriesPerCall', target: TARGET, limit: LIMIT, unit: 'entries' }],
  run: batchingFigures,
};
