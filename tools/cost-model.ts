// `npm run cost-model`: the monthly AWS cost of 10 thousand, 100 thousand and 1 million watched links,
// before and after issue 18, from the benchmark's measured figures (FIGURES, or `--figures file.json`
// holding `npm run bench -- --json` output) and list prices (PRICES); writes the table into
// docs/SCALING.md between its markers. `--check` only compares (the unit test does the same).
import { readFileSync, writeFileSync } from 'node:fs';

/** Measured by `npm run bench -- --json` (the key each comes from); the lead updates them from a run. */
export const FIGURES = {
  /** pollingCallsRatio.info.adaptiveCallsPerWatchedLinkDay */
  checksPerWatchedLinkDay: 53.0,
  /** adaptiveRecordedChangesPerLink / adaptiveCallsPerLink: the share of checks that record a change. */
  changedShare: 2.21 / 67.3,
  /** dynamoWritesPerScheduledCheck.unchanged (before issue 18: claim + state write = 2). */
  writesPerUnchangedCheck: { before: 2, after: 1.0 },
  /** dynamoWritesPerScheduledCheck.changed.info.writeUnitsPerCheck without the leases (before: claim + 5). */
  itemWruPerChangedCheck: { before: 6, after: 6.0 },
  /** dynamoWritesPerScheduledCheck.leaseWritesPerRun: one take and one release per due shard (16 shards). */
  leaseWritesPerRun: { before: 0, after: 32 },
  /** Issue 16's webhook attempt log: DynamoDB writes per delivery attempt (1 when present, 0 before). */
  attemptLogWritesPerAttempt: 1,
} as const;

/**
 * List prices, US East (N. Virginia): no ap-south-1 price list was among the sources at hand. The
 * DynamoDB on-demand page and the Scheduler rows of AWS's price list were read on 2026-12-03; the
 * Lambda, EventBridge, SQS and CloudWatch Logs prices are AWS's long-standing list prices, not re-read
 * that day (docs/SCALING.md names the pages). Free tiers are left out.
 */
export const PRICES = {
  perMillionWru: 0.625,
  perMillionRru: 0.125,
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  eventBridgePerMillionEvents: 1.0,
  schedulerPerMillionInvocations: 1.0,
  sqsPerMillionRequests: 0.4,
  logsPerGbIngested: 0.5,
} as const;

/** Assumptions, the same before and after (docs/SCALING.md says why). */
const MONTH_MINUTES = 43_200;
const DAYS = 30;
/** Index writes per check: an unchanged check moves `nextCheckAt` (delete + put in the due index). */
const DUE_INDEX_MOVE_WRU = 2;
/** A change also enters and leaves the outbox index. */
const OUTBOX_INDEX_WRU = 2;
/** Events per watched link per day (status and activity changes), and per delivery one attempt. */
const EVENTS_PER_LINK_DAY = 1.74;
const ATTEMPTS_PER_DELIVERY = 1;
/** SQS requests per webhook delivery (EventBridge's send, Lambda's receive and delete), one subscriber. */
const SQS_REQUESTS_PER_DELIVERY = 3;
/** Log bytes: one summary line per run, one line per recorded change. */
const LOG_BYTES_PER_RUN = 2_048;
const LOG_BYTES_PER_CHANGE = 1_024;
const FIXED_SECONDS_PER_RUN = 0.2;

export interface Size {
  label: string;
  links: number;
  parallelRuns: number;
  /** Links per second per run (the upstream budget's share): SCALING.md's settings. */
  ratePerRun: number;
  memoryGb: number;
}

export const SIZES: readonly Size[] = [
  { label: '10 thousand', links: 10_000, parallelRuns: 1, ratePerRun: 25, memoryGb: 0.5 },
  { label: '100 thousand', links: 100_000, parallelRuns: 2, ratePerRun: 150, memoryGb: 1 },
  { label: '1 million', links: 1_000_000, parallelRuns: 16, ratePerRun: 200, memoryGb: 1 },
];

type Era = 'before' | 'after';
export type Lines = Record<string, number>;

/** One size's monthly cost by line, in dollars. */
export function monthlyCost(size: Size, era: Era, figures = FIGURES): Lines {
  const checks = size.links * figures.checksPerWatchedLinkDay * DAYS;
  const changed = checks * figures.changedShare;
  const unchanged = checks - changed;
  const runs = size.parallelRuns * MONTH_MINUTES;
  const unchangedWru = figures.writesPerUnchangedCheck[era] * (1 + DUE_INDEX_MOVE_WRU);
  const changedWru =
    figures.itemWruPerChangedCheck[era] + DUE_INDEX_MOVE_WRU + OUTBOX_INDEX_WRU + (era === 'before' ? 2 : 0);
  const wru = unchanged * unchangedWru + changed * changedWru + runs * figures.leaseWritesPerRun[era];
  const rru = MONTH_MINUTES * (8 + 0.5 * size.parallelRuns) + checks * 0.0125 + (size.links * DAYS) / 1.27;
  const events = size.links * EVENTS_PER_LINK_DAY * DAYS;
  const gbSeconds = (checks / size.ratePerRun + runs * FIXED_SECONDS_PER_RUN) * size.memoryGb;
  const logBytes = runs * LOG_BYTES_PER_RUN + changed * LOG_BYTES_PER_CHANGE;
  const attemptLogWru =
    era === 'after' ? events * ATTEMPTS_PER_DELIVERY * figures.attemptLogWritesPerAttempt : 0;
  return {
    'DynamoDB writes': (wru / 1e6) * PRICES.perMillionWru,
    'DynamoDB reads': (rru / 1e6) * PRICES.perMillionRru,
    'Lambda (arm64 GB-s and requests)':
      gbSeconds * PRICES.lambdaArmPerGbSecond + (runs / 1e6) * PRICES.lambdaPerMillionRequests,
    'EventBridge custom events': (events / 1e6) * PRICES.eventBridgePerMillionEvents,
    'EventBridge Scheduler': (runs / 1e6) * PRICES.schedulerPerMillionInvocations,
    'SQS requests': ((events * SQS_REQUESTS_PER_DELIVERY) / 1e6) * PRICES.sqsPerMillionRequests,
    'CloudWatch Logs ingestion': (logBytes / 1024 ** 3) * PRICES.logsPerGbIngested,
    'webhook attempt log (issue 16)': (attemptLogWru / 1e6) * PRICES.perMillionWru,
  };
}

const dollars = (value: number) =>
  value >= 100 ? `$${Math.round(value).toLocaleString('en-US')}` : `$${value.toFixed(2)}`;

/** The markdown table: a line per cost, a column per size and era, the totals last. */
export function costTable(figures = FIGURES): string {
  const columns = SIZES.flatMap((size) =>
    (['before', 'after'] as const).map((era) => ({ size, era, lines: monthlyCost(size, era, figures) })),
  );
  const names = Object.keys(columns[0]?.lines ?? {});
  const header = `| per month | ${columns.map((c) => `${c.size.label}, ${c.era}`).join(' | ')} |`;
  const rule = `| --- | ${columns.map(() => '---:').join(' | ')} |`;
  const rows = names.map(
    (name) => `| ${name} | ${columns.map((c) => dollars(c.lines[name] ?? 0)).join(' | ')} |`,
  );
  const total = (lines: Lines) => Object.values(lines).reduce((sum, value) => sum + value, 0);
  rows.push(`| **total** | ${columns.map((c) => `**${dollars(total(c.lines))}**`).join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}

export const BEGIN = '<!-- cost-model:begin (npm run cost-model writes this table) -->';
export const END = '<!-- cost-model:end -->';
const DOC = new URL('../docs/SCALING.md', import.meta.url);

/** The document with the table between the markers replaced. */
export function withTable(doc: string, table: string): string {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`docs/SCALING.md has no ${BEGIN} ... ${END} markers`);
  return `${doc.slice(0, begin + BEGIN.length)}\n${table}\n${doc.slice(end)}`;
}

/** Measured figures from a saved `npm run bench -- --json`, where it has them. */
function figuresFrom(file: string): typeof FIGURES {
  const text = readFileSync(file, 'utf8');
  const bench = JSON.parse(text.slice(text.indexOf('{'))) as Record<
    string,
    { value: number | null; info?: Record<string, { value: number | null }> }
  >;
  const info = (key: string, name: string) => bench[key]?.info?.[name]?.value ?? undefined;
  const perDay = info('pollingCallsRatio', 'adaptiveCallsPerWatchedLinkDay');
  const unchanged = bench['dynamoWritesPerScheduledCheck.unchanged']?.value ?? undefined;
  const leases = bench['dynamoWritesPerScheduledCheck.leaseWritesPerRun']?.value ?? undefined;
  return {
    ...FIGURES,
    ...(perDay ? { checksPerWatchedLinkDay: perDay } : {}),
    ...(unchanged !== undefined ? { writesPerUnchangedCheck: { before: 2, after: unchanged } } : {}),
    ...(leases !== undefined ? { leaseWritesPerRun: { before: 0, after: leases } } : {}),
  } as typeof FIGURES;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.includes('--figures') ? args[args.indexOf('--figures') + 1] : undefined;
  const table = costTable(file ? figuresFrom(file) : FIGURES);
  const doc = readFileSync(DOC, 'utf8');
  const next = withTable(doc, table);
  if (args.includes('--check')) {
    if (next !== doc) {
      console.error('docs/SCALING.md: the cost table is not what `npm run cost-model` computes');
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(DOC, next);
  console.log(table);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
