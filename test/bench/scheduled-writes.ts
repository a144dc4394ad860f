/**
 * DynamoDB writes per scheduled check (issue 18): one recheck run over every due link, the table on
 * the emulator, the sandbox upstream; every write the run sends is counted at the SDK (a middleware
 * on the run's own document client), the shard leases' take, renew and release included, and
 * divided by the links checked. The lease writes are a cost per run (two per shard with links due),
 * not per check: they are reported on their own row and in the `withLeases` rows, not in the figure
 * per check, which would otherwise depend on how many links this sweep happens to hold:
 *  - unchanged: 500 links registered `ISSUED` that have not moved when the sweep comes; with the
 *    leases, the one conditional write that moves `nextCheckAt` (the claim before it was a second);
 *  - changed: 100 links that moved to `PROCESSING` between registration and the sweep: the
 *    transaction (state and change) and the publish mark, reported.
 * The figure counts write requests; the note says how many items they wrote (a transaction of two
 * `Put`s is one request, two items, each billed twice by DynamoDB): the cost model's input.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTable, localClients } from '#infra/local/aws-resources.ts';
import { loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import type { InstantPayClient } from '#shared/instantpay/client.ts';
import { LinkStore } from '#shared/store/link-store.ts';
import { SweepQueries } from '#shared/store/sweep-queries.ts';
import { DUE_SHARDS, LEASE_PK_PREFIX } from '#shared/store/table-definition.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { LinkRegistrations } from '#shared/tracker/link-registrations.ts';
import { benchMoto } from './bench-moto.ts';
import { onCleanup, progress } from './cleanup.ts';
import { atMost, type Benchmark, type Figure } from './figures.ts';
import { type SandboxProcess, startSandboxProcess } from './sandbox-process.ts';
import {
  acceptingPublisher,
  inParallel,
  OffsetClock,
  sandboxUpstream,
  sweepAllDue,
} from './sweep-throughput.ts';

const UNCHANGED_LINKS = 500;
const CHANGED_LINKS = 100;
/** When the sandbox moves a changed link to `PROCESSING`, after its creation. */
const MOVES_AFTER_MS = 3_000;
const REGISTER_WIDTH = 16;

const UNCHANGED_TARGET = atMost(1);
const UNCHANGED_LIMIT =
  'the one conditional write that moves nextCheckAt, per check (the leases are a cost per run: below)';
const CHANGED_LIMIT = 'transaction (state + change) and publish mark, per check (leases below)';
const LEASE_LIMIT =
  'one take and one release per shard with links due, per run, whatever the number of links';

const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

/** Write requests and the items they wrote (a transaction's items each count), by command. */
interface WriteCount {
  requests: Map<string, number>;
  items: number;
  /** Items written inside transactions: DynamoDB bills each twice. */
  transactionItems: number;
  /** Writes of the shard lease items (take, renew, release): per run, not per link. */
  leaseWrites: number;
}

function countWrites(client: DynamoDBDocumentClient): WriteCount {
  const count: WriteCount = { requests: new Map(), items: 0, transactionItems: 0, leaseWrites: 0 };
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? 'unknown';
      if (WRITES.has(name)) {
        count.requests.set(name, (count.requests.get(name) ?? 0) + 1);
        const input = args.input as {
          TransactItems?: unknown[];
          RequestItems?: Record<string, unknown[]>;
          Key?: { pk?: unknown };
        };
        if (String(input.Key?.pk ?? '').startsWith(LEASE_PK_PREFIX)) count.leaseWrites++;
        count.transactionItems += input.TransactItems?.length ?? 0;
        count.items += input.TransactItems
          ? input.TransactItems.length
          : input.RequestItems
            ? Object.values(input.RequestItems).reduce((sum, items) => sum + items.length, 0)
            : 1;
      }
      return next(args);
    },
    { step: 'initialize', name: 'countScheduledWrites' },
  );
  return count;
}

interface SweepWrites {
  checked: number;
  due: number;
  requests: number;
  items: number;
  /** Write request units if every item is under 1 KB: each item once, a transaction's twice. */
  writeUnits: number;
  leaseWrites: number;
  byCommand: string;
  transitions: number;
}

/** Registers the links (not counted), lets them move if they will, then counts one sweep's writes. */
async function sweepWrites(
  sandbox: SandboxProcess,
  upstream: InstantPayClient,
  clock: OffsetClock,
  count: number,
  changing: boolean,
): Promise<SweepWrites> {
  const tableName = `bench-writes-${randomUUID().slice(0, 8)}`;
  await createTable(localClients(), tableName);
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = new LinkStore({ tableName, client });
  const config = loadRuntimeConfig({
    STAGE: 'bench',
    TABLE_NAME: tableName,
    EVENT_BUS_NAME: 'bench',
    INSTANTPAY_SECRET_NAME: 'bench/unused',
  });
  const tracker = createTracker(config, { store, upstream, publisher: acceptingPublisher, clock });

  let lastCreatedAt = 0;
  await inParallel(count, REGISTER_WIDTH, async () => {
    const linkId = await sandbox.createLink({
      amount: 100,
      timeline: changing
        ? [
            { afterMs: 0, status: 'ISSUED' },
            { afterMs: MOVES_AFTER_MS, status: 'PROCESSING' },
          ]
        : [{ afterMs: 0, status: 'ISSUED' }],
    });
    lastCreatedAt = Math.max(lastCreatedAt, Date.now());
    await new LinkRegistrations({ tracker, store }).register(linkId, {});
  });
  if (changing) {
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, lastCreatedAt + MOVES_AFTER_MS + 200 - Date.now())),
    );
  }

  const writes = countWrites(client);
  try {
    const { summary } = await sweepAllDue(tracker, new SweepQueries({ tableName, client }), sandbox, clock);
    const requests = [...writes.requests.values()].reduce((sum, n) => sum + n, 0);
    return {
      checked: summary.linksChecked,
      due: count,
      requests,
      items: writes.items,
      writeUnits: writes.items + writes.transactionItems,
      leaseWrites: writes.leaseWrites,
      byCommand: [...writes.requests]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, n]) => `${name.replace(/Command$/, '')} ${n}`)
        .join(', '),
      transitions: summary.transitionsRecorded,
    };
  } finally {
    await sandbox.clearFaults();
    client.destroy();
  }
}

function describe(result: SweepWrites): string {
  const checked = result.checked === result.due ? `${result.checked}` : `${result.checked} of ${result.due}`;
  return `${checked} links checked, ${result.transitions} changes recorded; ${result.requests} write requests (${result.byCommand}), ${result.items} items`;
}

async function scheduledWriteFigures(): Promise<Figure[]> {
  await benchMoto();
  const sandbox = await startSandboxProcess();
  const closeSandbox = onCleanup(() => sandbox.close());
  try {
    const clock = new OffsetClock();
    const upstream = sandboxUpstream(sandbox.url, clock);
    progress(`scheduled writes: registering and sweeping ${UNCHANGED_LINKS} unchanged links`);
    const unchanged = await sweepWrites(sandbox, upstream, clock, UNCHANGED_LINKS, false);
    progress(`scheduled writes: ${describe(unchanged)}`);
    progress(`scheduled writes: registering and sweeping ${CHANGED_LINKS} links that moved`);
    const changed = await sweepWrites(sandbox, upstream, clock, CHANGED_LINKS, true);
    progress(`scheduled writes: ${describe(changed)}`);
    const perCheck = (result: SweepWrites) =>
      result.checked === result.due ? (result.requests - result.leaseWrites) / result.checked : Number.NaN;
    const units = (result: SweepWrites, key: string): Figure => ({
      key: 'writeUnitsPerCheck',
      of: key,
      value: result.writeUnits / result.checked,
      unit: 'WRU',
      limit:
        'write request units if every item is under 1 KB (a transaction item counts twice), leases included',
    });
    const withLeases = (result: SweepWrites, key: string): Figure => ({
      key: 'withLeases',
      of: key,
      value: result.requests / result.checked,
      unit: 'writes',
      limit: `every write of this sweep of ${result.checked} links, its ${result.leaseWrites} lease writes included`,
    });
    return [
      units(unchanged, 'dynamoWritesPerScheduledCheck.unchanged'),
      withLeases(unchanged, 'dynamoWritesPerScheduledCheck.unchanged'),
      units(changed, 'dynamoWritesPerScheduledCheck.changed'),
      withLeases(changed, 'dynamoWritesPerScheduledCheck.changed'),
      {
        key: 'dynamoWritesPerScheduledCheck.unchanged',
        value: perCheck(unchanged),
        unit: 'writes',
        target: UNCHANGED_TARGET,
        limit: UNCHANGED_LIMIT,
        note: `${describe(unchanged)}; ${(unchanged.items / unchanged.checked).toFixed(3)} items per check`,
      },
      {
        key: 'dynamoWritesPerScheduledCheck.changed',
        value: perCheck(changed),
        unit: 'writes',
        limit: CHANGED_LIMIT,
        note: `${describe(changed)}; ${(changed.items / changed.checked).toFixed(3)} items per check`,
      },
      {
        key: 'dynamoWritesPerScheduledCheck.leaseWritesPerRun',
        value: unchanged.leaseWrites,
        unit: 'writes',
        limit: LEASE_LIMIT,
        note: `${unchanged.leaseWrites} lease writes over ${unchanged.checked} checks: +${(unchanged.leaseWrites / unchanged.checked).toFixed(3)} per check here; at 1 million links (about 37,000 checks a run) +${((2 * DUE_SHARDS) / 37_000).toFixed(4)}`,
      },
    ];
  } finally {
    await closeSandbox();
  }
}

export const scheduledWrites: Benchmark = {
  name: 'dynamodb writes per scheduled check',
  figures: [
    {
      key: 'dynamoWritesPerScheduledCheck.unchanged',
      target: UNCHANGED_TARGET,
      limit: UNCHANGED_LIMIT,
      unit: 'writes',
    },
    { key: 'dynamoWritesPerScheduledCheck.changed', limit: CHANGED_LIMIT, unit: 'writes' },
    { key: 'dynamoWritesPerScheduledCheck.leaseWritesPerRun', limit: LEASE_LIMIT, unit: 'writes' },
  ],
  run: scheduledWriteFigures,
};
