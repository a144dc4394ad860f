import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ManualClock } from '#infra/sandbox/clock.ts';
import type { Sandbox } from '#infra/sandbox/server.ts';
import {
  ACTIVITY_ADDED,
  type DetailType,
  eventIdFor,
  type LinkEventDetail,
  STATUS_CHANGED,
} from '#shared/link/link-event.ts';
import type { Log } from '#shared/observability/log.ts';
import { type RecheckOptions, type RecheckSummary, runRecheck } from '#shared/recheck/recheck-run.ts';
import type { SweepStore } from '#shared/recheck/sweep-store.ts';
import type { LinkQueries } from '#shared/store/link-queries.ts';
import type { LinkTracker } from '#shared/tracker/link-tracker.ts';
import { sensitiveFindings } from './log-scan.ts';
import { PERSONAL_ACTIVITY } from './planted-personal-data.ts';
import { recheckOptions } from './recheck-options.ts';

import type { ApiResponse, BusEvent } from './tracker-fixture.ts';

/**
 * The ledger harness of the reliability suite: a population of scripted sandbox links whose real
 * changes are known in advance, a driver of scheduled runs on a manual clock, and the checks that
 * compare what the tracker recorded and published with what really happened.
 */

const MINUTE = 60_000;
/** Every kind reaches its final status at this minute (see {@link KINDS}). */
export const FINAL_MINUTE = 2;

export interface ScriptedStep {
  minute: number;
  status: string;
  activity?: Array<Record<string, unknown>>;
}

export interface LinkKind {
  name: string;
  steps: ScriptedStep[];
}

/**
 * Five lifecycles, at most one step a minute, all final at {@link FINAL_MINUTE}. A run every minute
 * sees every step (ISSUED and unknown statuses are rechecked every minute, PROCESSING every 30 s),
 * so a fault armed at the start of the final minute can only delay a final step, never hide an
 * intermediate one: whatever the fault, every real change stays observable and the ledger must
 * match it exactly. The sandbox's default activity carries a 16-digit account number on claims and
 * verifications, and the notification step a phone number and an e-mail address; the activity step
 * plants every shape of `planted-personal-data.ts` (spaced, dashed, glued, JSON numbers, nested): all
 * to be masked, and the scan of the published events finds any that is not.
 */
const KINDS: readonly LinkKind[] = [
  {
    name: 'claimed',
    steps: [
      { minute: 0, status: 'ISSUED' },
      { minute: 1, status: 'PROCESSING' },
      { minute: 2, status: 'CLAIMED' },
    ],
  },
  {
    name: 'cancelled',
    steps: [
      { minute: 0, status: 'ISSUED' },
      { minute: 2, status: 'CANCELLED' },
    ],
  },
  {
    name: 'activity-then-expired',
    steps: [
      { minute: 0, status: 'ISSUED' },
      { minute: 1, status: 'ISSUED', activity: [...PERSONAL_ACTIVITY] },
      { minute: 2, status: 'EXPIRED' },
    ],
  },
  {
    // First seen mid-claim; the claim fails back to ISSUED, then a second claim succeeds.
    name: 'claim-failed-then-claimed',
    steps: [
      { minute: 0, status: 'PROCESSING' },
      { minute: 1, status: 'ISSUED' },
      { minute: 2, status: 'CLAIMED' },
    ],
  },
  {
    // A status InstantPay has not documented: recorded as it is, watched like ISSUED.
    name: 'unknown-status',
    steps: [
      { minute: 0, status: 'ISSUED' },
      { minute: 1, status: 'ON_HOLD' },
      { minute: 2, status: 'CLAIMED' },
    ],
  },
];

export interface ExpectedChange {
  detailType: DetailType;
  previousStatus: string | null;
  status: string;
}

export interface ScriptedLink {
  linkId: string;
  kind: LinkKind;
  expected: ExpectedChange[];
}

/**
 * The real changes of a lifecycle: a status change per new status, an activity event per step that
 * only adds activity.
 */
function expectedChanges(kind: LinkKind): ExpectedChange[] {
  const changes: ExpectedChange[] = [];
  let previous: string | null = null;
  for (const step of kind.steps) {
    const detailType = step.status === previous ? ACTIVITY_ADDED : STATUS_CHANGED;
    changes.push({ detailType, previousStatus: previous, status: step.status });
    previous = step.status;
  }
  return changes;
}

/** Creates `count` scripted links in the sandbox, the kinds in turn, starting now on the sandbox clock. */
export function scriptPopulation(sandbox: Sandbox, count: number, prefix: string): ScriptedLink[] {
  return Array.from({ length: count }, (_, index) => {
    const kind = KINDS[index % KINDS.length]!;
    const linkId = `${prefix}-${String(index).padStart(3, '0')}`;
    sandbox.createLink({
      linkId,
      amount: 100 + index,
      timeline: kind.steps.map((step) => ({
        afterMs: step.minute * MINUTE,
        status: step.status,
        ...(step.activity ? { activity: [...step.activity] } : {}),
      })),
    });
    return { linkId, kind, expected: expectedChanges(kind) };
  });
}

type Call = (method: string, path: string, request?: { body?: unknown }) => Promise<ApiResponse>;

/** Registers every link through the API (`POST /links`), a few at a time as clients would. */
export async function registerAll(call: Call, links: readonly ScriptedLink[], parallel = 10): Promise<void> {
  for (let i = 0; i < links.length; i += parallel) {
    const batch = links.slice(i, i + parallel);
    const responses = await Promise.all(
      batch.map((link) => call('POST', '/links', { body: { linkId: link.linkId } })),
    );
    const refused = responses.filter((response) => response.status !== 201);
    if (refused.length > 0) throw new Error(`registration refused: ${JSON.stringify(refused[0]?.body)}`);
  }
}

export interface RunRecord {
  minute: number;
  summary?: RecheckSummary;
  /** The run itself failed (as a Lambda invocation would): `name: message`. */
  error?: string;
  ms: number;
}

export interface ScheduleOptions {
  clock: ManualClock;
  tracker: LinkTracker;
  /** The sweep's store: the tracker's table. */
  store: SweepStore;
  ledger: Ledger;
  log?: Log;
  /** After the clock moved to `minute`, before that minute's run. */
  before?: (minute: number) => Promise<void> | void;
  /** After the run. */
  after?: (minute: number, run: RunRecord) => Promise<void> | void;
  /** The run itself, when a scenario races it with other calls; `runRecheck` by default. */
  run?: (minute: number) => Promise<RecheckSummary>;
  options?: Partial<RecheckOptions>;
  maxRuns?: number;
}

/**
 * One scheduled run a minute on the manual clock (as EventBridge Scheduler would invoke
 * `recheck-pending`), the queue read meanwhile, until every link is final and the outbox is empty.
 * A run that throws is recorded, as a failed invocation, and the schedule goes on.
 */
export async function runSchedule(options: ScheduleOptions): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  const maxRuns = options.maxRuns ?? 20;
  options.ledger.startCollecting();
  for (let minute = 1; minute <= maxRuns; minute++) {
    options.clock.advance(MINUTE);
    await options.before?.(minute);
    const started = Date.now();
    const record: RunRecord = { minute, ms: 0 };
    try {
      record.summary = options.run
        ? await options.run(minute)
        : await runRecheck(
            { tracker: options.tracker, store: options.store, ...(options.log ? { log: options.log } : {}) },
            recheckOptions(options.options),
          );
    } catch (error) {
      record.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    record.ms = Date.now() - started;
    runs.push(record);
    await options.after?.(minute, record);
    if (minute >= FINAL_MINUTE && (await options.ledger.settled())) break;
  }
  return runs;
}

export interface LedgerReport {
  links: number;
  /** Changes recorded (= real changes, when the ledger holds). */
  changes: number;
  /** Event messages read from the queue, duplicates included. */
  delivered: number;
  /** Deliveries of an event id already seen (at-least-once publishing at work). */
  duplicates: number;
}

interface TableRead {
  links: Map<string, Record<string, unknown>>;
  changes: Map<string, Array<Record<string, unknown>>>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What the tracker recorded (the table, read with a client no fault touches) and published (every
 * message of the fixture's queue, which a rule on the bus fills with every tracker event), compared
 * with the scripted links' real changes.
 */
export class Ledger {
  /** Every event message read from the queue, in order of reading, duplicates included. */
  readonly seen: BusEvent[] = [];
  private readonly db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  private collecting: Promise<void> | undefined;
  private stopCollecting = false;

  constructor(
    private readonly world: {
      names: { table: string };
      queries: LinkQueries;
      sweep: SweepStore;
      receiveEvents: (count: number, timeoutMs?: number) => Promise<BusEvent[]>;
    },
    readonly links: readonly ScriptedLink[],
  ) {}

  /**
   * Reads the queue in the background until {@link collect} or {@link verify}: the emulator's
   * ReceiveMessage slows down with the depth of the queue, so it is kept short.
   */
  startCollecting(): void {
    this.stopCollecting = false;
    this.collecting ??= (async () => {
      while (!this.stopCollecting) {
        const events = await this.world.receiveEvents(0, 10_000);
        this.seen.push(...events);
        if (events.length === 0) await sleep(500);
      }
    })();
  }

  /** Stops the background reader. */
  async stop(): Promise<void> {
    this.stopCollecting = true;
    await this.collecting;
    this.collecting = undefined;
  }

  /** Stops the background reader, then reads (and deletes) whatever the queue still holds. */
  async collect(): Promise<void> {
    await this.stop();
    this.seen.push(...(await this.world.receiveEvents(0, 10_000)));
  }

  /** Nothing left to do: no link watched any more, nothing in the outbox. */
  async settled(): Promise<boolean> {
    const [watching, outbox] = await Promise.all([
      this.world.queries.listLinks({ state: 'watching' }, 1),
      this.world.sweep.listUnpublished(1),
    ]);
    return watching.links.length === 0 && outbox.length === 0;
  }

  /** Every link item and change item of the table, by link id (a test-side scan: a few requests). */
  private async readTable(): Promise<TableRead> {
    const read: TableRead = { links: new Map(), changes: new Map() };
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.world.names.table,
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) {
        const linkId = String(item.pk).replace(/^LINK#/, '');
        if (item.type === 'link') read.links.set(linkId, item);
        if (item.type === 'change') read.changes.set(linkId, [...(read.changes.get(linkId) ?? []), item]);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    for (const items of read.changes.values()) items.sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
    return read;
  }

  /** Every link item of the population as the table holds it now (one scan, not a read per link). */
  async linkItems(): Promise<Map<string, Record<string, unknown>>> {
    return (await this.readTable()).links;
  }

  /**
   * Nothing half-written: every link item's `sequence` equals the number of its change items, and
   * its change items are numbered 1..n. Answers the problems found (none when consistent).
   */
  async halfWritten(): Promise<string[]> {
    const table = await this.readTable();
    const problems: string[] = [];
    for (const { linkId } of this.links) {
      const sequence = Number(table.links.get(linkId)?.sequence ?? 0);
      const changes = table.changes.get(linkId) ?? [];
      if (sequence !== changes.length)
        problems.push(`${linkId}: link sequence ${sequence} but ${changes.length} change items`);
      changes.forEach((change, index) => {
        if (change.sequence !== index + 1)
          problems.push(`${linkId}: change item ${index + 1} has sequence ${change.sequence}`);
      });
    }
    return problems;
  }

  /**
   * The four checks: (a) the recorded changes of every link are its real changes (status chain,
   * detail types, sequences 1..n, deterministic ids, every activity entry exactly once, the link
   * item agreeing); (b) every recorded event id reached the queue, and nothing else did; (c) no
   * (linkId, sequence) was ever seen with two ids, and a redelivered id carried the same detail;
   * (d) the outbox is empty. Also: no unmasked personal data in any published event. Throws listing
   * every problem.
   */
  async verify(): Promise<LedgerReport> {
    await this.collect();
    const problems: string[] = [];
    const table = await this.readTable();
    const recorded = new Map<string, { linkId: string; sequence: number }>();

    for (const link of this.links) {
      const { linkId } = link;
      const state = table.links.get(linkId);
      const changes = (table.changes.get(linkId) ?? []) as unknown as StoredChangeItem[];
      for (const change of changes)
        recorded.set(change.detail.eventId, { linkId, sequence: change.sequence });
      const actual = changes.map((c) => `${c.detailType}: ${c.detail.previousStatus} -> ${c.detail.status}`);
      const wanted = link.expected.map((c) => `${c.detailType}: ${c.previousStatus} -> ${c.status}`);
      if (JSON.stringify(actual) !== JSON.stringify(wanted))
        problems.push(
          `${linkId} (${link.kind.name}): recorded [${actual.join(', ')}], real [${wanted.join(', ')}]`,
        );
      changes.forEach((change, index) => {
        if (change.sequence !== index + 1 || change.detail.sequence !== index + 1)
          problems.push(`${linkId}: change ${index + 1} has sequence ${change.detail.sequence}`);
        if (change.detail.eventId !== eventIdFor(linkId, index + 1))
          problems.push(`${linkId}#${index + 1}: event id is not the deterministic one`);
        if (change.publishedAt === undefined) problems.push(`${linkId}#${index + 1}: never marked published`);
      });
      if (!state) {
        problems.push(`${linkId}: no link item`);
        continue;
      }
      const last = link.expected.at(-1)!;
      if (state.status !== last.status)
        problems.push(`${linkId}: stored status ${state.status}, real ${last.status}`);
      if (state.sequence !== changes.length)
        problems.push(`${linkId}: link sequence ${state.sequence} but ${changes.length} change items`);
      if (state.nextCheckAt !== undefined) problems.push(`${linkId}: final but still watched`);
      const activityInEvents = changes.reduce((sum, change) => sum + change.detail.activity.length, 0);
      const activity = (state.activity as unknown[] | undefined)?.length ?? 0;
      if (activityInEvents !== activity)
        problems.push(`${linkId}: ${activity} activity entries, ${activityInEvents} in its events`);
    }

    // The store's own read of a few links agrees with the scan.
    for (const { linkId } of this.links.slice(0, 10)) {
      const listed = await this.world.queries.listChanges(linkId);
      const scanned = (table.changes.get(linkId) ?? []) as unknown as StoredChangeItem[];
      if (JSON.stringify(listed.map((c) => c.detail)) !== JSON.stringify(scanned.map((c) => c.detail)))
        problems.push(`${linkId}: listChanges disagrees with the table`);
    }

    const byId = new Map<string, BusEvent[]>();
    const idsBySequence = new Map<string, Set<string>>();
    for (const event of this.seen) {
      const { eventId, linkId, sequence } = event.detail;
      byId.set(eventId, [...(byId.get(eventId) ?? []), event]);
      const key = `${linkId}#${sequence}`;
      idsBySequence.set(key, (idsBySequence.get(key) ?? new Set()).add(eventId));
      if (eventId !== eventIdFor(linkId, sequence))
        problems.push(`queue: ${key} carries a foreign id ${eventId}`);
    }
    for (const [eventId, { linkId, sequence }] of recorded)
      if (!byId.has(eventId)) problems.push(`${linkId}#${sequence}: recorded, never reached the bus`);
    for (const [eventId, events] of byId) {
      if (!recorded.has(eventId)) problems.push(`queue: event ${eventId} was never recorded`);
      const bodies = new Set(events.map((event) => JSON.stringify([event['detail-type'], event.detail])));
      if (bodies.size > 1)
        problems.push(`queue: event ${eventId} delivered with ${bodies.size} different bodies`);
    }
    for (const [key, ids] of idsBySequence)
      if (ids.size > 1) problems.push(`queue: ${key} seen with ${ids.size} different event ids`);

    const outbox = await this.world.sweep.listUnpublished(1_000);
    if (outbox.length > 0) problems.push(`outbox: ${outbox.length} changes left unpublished`);
    for (const finding of sensitiveFindings(JSON.stringify(this.seen.map((e) => e.detail)), []))
      problems.push(`published events: ${finding}`);

    if (problems.length > 0)
      throw new Error(`ledger: ${problems.length} problems\n${problems.slice(0, 40).join('\n')}`);
    return {
      links: this.links.length,
      changes: recorded.size,
      delivered: this.seen.length,
      duplicates: this.seen.length - byId.size,
    };
  }
}

/** A change item as the table holds it. */
interface StoredChangeItem {
  sequence: number;
  detailType: DetailType;
  detail: LinkEventDetail;
  publishedAt?: number;
}
