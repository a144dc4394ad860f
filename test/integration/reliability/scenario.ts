import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, onTestFinished } from 'vitest';
import type { ManualClock } from '#infra/sandbox/clock.ts';
import { SAMPLE_CREDENTIALS, type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import type { CapturedLine } from '#test/support/capture-log.ts';
import { Ledger, type LedgerReport, type RunRecord, scriptPopulation } from '#test/support/ledger.ts';
import { type NamedSecret, renderLines, sensitiveFindings } from '#test/support/log-scan.ts';
import { type FixtureOptions, trackerFixture } from '#test/support/tracker-fixture.ts';

/** Links per scenario: the issue asks for at least 200. */
export const POPULATION = 200;

/** The InstantPay credentials every fixture's secret holds: never to be logged. */
export const INSTANTPAY_SECRETS: NamedSecret[] = [
  { label: 'the InstantPay client secret', value: SAMPLE_CREDENTIALS.clientSecret },
  { label: 'the InstantPay client id', value: SAMPLE_CREDENTIALS.clientId },
];

/**
 * A scenario's world: the fixture (table, bus -> rule -> queue, secret, the real core and API) on
 * the file's sandbox and manual clock, {@link POPULATION} scripted links, and their ledger, already
 * reading the queue.
 */
export async function scenarioWorld(
  name: string,
  shared: { sandbox: Sandbox; clock: ManualClock },
  options: Omit<FixtureOptions, 'sandbox' | 'clock'> = {},
) {
  const world = await trackerFixture({
    ...options,
    // The deployed default: the sandbox runs in the test's own event loop, which a scenario keeps
    // busy, so the fixture's 1 s would time out calls the sandbox answered in time.
    env: { UPSTREAM_TIMEOUT_MS: '5000', ...options.env },
    clock: shared.clock,
    sandbox: shared.sandbox,
  });
  const links = scriptPopulation(shared.sandbox, POPULATION, `${name}-${letters(6)}`);
  const ledger = new Ledger(world, links);
  ledger.startCollecting();
  // Whatever the outcome, the reader stops with the test.
  onTestFinished(() => ledger.stop());
  return { world, links, ledger };
}

/**
 * A test file's shared parts: one sandbox on the file's manual clock (started before its tests,
 * closed after), and the file's {@link LogBook}, already holding the sandbox's request log.
 */
export function scenarioFile(clock?: ManualClock): { readonly sandbox: Sandbox; logs: LogBook } {
  const logs = new LogBook();
  let sandbox: Sandbox | undefined;
  beforeAll(async () => {
    const sandboxLog: string[] = [];
    logs.addText(sandboxLog);
    sandbox = await startSandbox({ ...(clock ? { clock } : {}), log: (line) => sandboxLog.push(line) });
  });
  afterAll(async () => {
    await sandbox?.close();
  });
  return {
    logs,
    get sandbox() {
      if (!sandbox) throw new Error('the sandbox starts in beforeAll');
      return sandbox;
    },
  };
}

/** Every line a file's scenarios logged, scanned once at the end of the file. */
export class LogBook {
  private readonly sources: Array<readonly CapturedLine[]> = [];
  private readonly texts: Array<readonly string[]> = [];
  private readonly secrets: NamedSecret[] = [...INSTANTPAY_SECRETS];

  /** Lines of a captured (structured) logger: the tracker's, the API's, the deliverer's. */
  add(lines: readonly CapturedLine[]): void {
    this.sources.push(lines);
  }

  /** Plain text lines, such as the sandbox's request log. */
  addText(lines: readonly string[]): void {
    this.texts.push(lines);
  }

  secret(label: string, value: string): void {
    this.secrets.push({ label, value });
  }

  get lineCount(): number {
    return [...this.sources, ...this.texts].reduce((sum, lines) => sum + lines.length, 0);
  }

  expectClean(): void {
    const text = [
      ...this.sources.map((lines) => renderLines(lines)),
      ...this.texts.map((lines) => lines.join('\n')),
    ].join('\n');
    expect(sensitiveFindings(text, this.secrets)).toEqual([]);
  }
}

/** One line per scenario for the fault table of docs/RELIABILITY.md, when RELIABILITY_REPORT is set. */
export function report(scenario: string, ledger: LedgerReport, runs: readonly RunRecord[], extra = {}): void {
  if (!process.env.RELIABILITY_REPORT) return;
  const summary = runs.map((run) =>
    run.error
      ? { minute: run.minute, ms: run.ms, error: run.error }
      : {
          minute: run.minute,
          ms: run.ms,
          checked: run.summary?.linksChecked,
          recorded: run.summary?.transitionsRecorded,
          upstreamErrors: run.summary?.upstreamErrors,
          otherErrors: run.summary?.otherErrors,
          conflicts: run.summary?.leaseConflicts,
          republished: run.summary?.republished,
          unpublished: run.summary?.unpublished,
        },
  );
  console.log(`[reliability] ${scenario} ${JSON.stringify({ ledger, ...extra, runs: summary })}`);
}

/**
 * A random run of lower-case letters: link ids that hold no long run of digits, which the scan of
 * published events would rightly read as an account number (a hex `633899` beside `-002` did).
 */
function letters(count: number): string {
  return Array.from(randomBytes(count), (byte) => String.fromCharCode(97 + (byte % 26))).join('');
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
