import { describe, expect, it, onTestFinished } from 'vitest';
import { armFault, type FaultHandle } from '#infra/local/emulator-faults.ts';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { type RecheckSummary, runRecheck } from '#shared/recheck/recheck-run.ts';
import { type RunRecord, runSchedule, type ScriptedLink } from '#test/support/ledger.ts';
import { recheckOptions } from '#test/support/recheck-options.ts';
import type { ApiResponse } from '#test/support/tracker-fixture.ts';
import { report, scenarioFile, scenarioWorld, sleep } from './scenario.ts';

const clock = new ManualClock(Date.parse('2026-12-06T10:00:00Z'));
const file = scenarioFile(clock);
const { logs } = file;

/**
 * 50 racing checkers: 30 on-demand callers and four overlapping scheduled runs of 5 workers each,
 * all on the same links. Each minute the callers check every link (in another order), retrying a
 * 5xx: the statuses of each minute are observed however the scheduled checks fare, so the ledger
 * must be exact, and a scheduled check lost to a fault shows in the run's log, not as luck.
 */
const API_CALLERS = 30;
const SCHEDULED_RUNS = 4;
const RUN_CONCURRENCY = 5;
/** A client retries a 5xx this many times (without waiting the real seconds: the manual clock stands still). */
const CLIENT_ATTEMPTS = 8;
/** What a check may fail with when the fault outlives every bounded retry: throttling, or contention. */
const RETRIES_OUTLIVED = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'ConcurrentUpdateError',
]);

interface Answer {
  minute: number;
  link: ScriptedLink;
  method: string;
  response: ApiResponse;
}

/** Sums the summaries of runs that overlapped, as one minute's figures. */
function together(summaries: readonly RecheckSummary[]): RecheckSummary {
  return summaries.reduce((sum, next) => ({
    linksChecked: sum.linksChecked + next.linksChecked,
    transitionsRecorded: sum.transitionsRecorded + next.transitionsRecorded,
    upstreamErrors: sum.upstreamErrors + next.upstreamErrors,
    otherErrors: sum.otherErrors + next.otherErrors,
    leaseConflicts: sum.leaseConflicts + next.leaseConflicts,
    leasesLost: sum.leasesLost + next.leasesLost,
    republished: sum.republished + next.republished,
    unpublished: sum.unpublished + next.unpublished,
    outboxBacklog: Math.max(sum.outboxBacklog, next.outboxBacklog),
    oldestUnpublishedAgeSeconds: Math.max(sum.oldestUnpublishedAgeSeconds, next.oldestUnpublishedAgeSeconds),
    outboxQuarantined: Math.max(sum.outboxQuarantined, next.outboxQuarantined),
    finalConflicts: sum.finalConflicts + next.finalConflicts,
    dueBacklog: sum.dueBacklog + next.dueBacklog,
    oldestDueAgeSeconds: Math.max(sum.oldestDueAgeSeconds, next.oldestDueAgeSeconds),
    detectionDelaySeconds: [...sum.detectionDelaySeconds, ...next.detectionDelaySeconds],
    stoppedEarly: sum.stoppedEarly || next.stoppedEarly,
  }));
}

/** A deterministic shuffle (a small LCG), so each minute's callers take the links in another order. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('reliability: DynamoDB failing as it does in AWS', () => {
  it('8. 10 % TransactionConflict on the transactions and 5 % throttling on every write, under 50 racing checkers: every change recorded once, published, delivered; no 5xx but a 503 with Retry-After', {
    timeout: 240_000,
  }, async () => {
    const { world, links, ledger } = await scenarioWorld('ddb-wire-faults', { sandbox: file.sandbox, clock });
    logs.add(world.log.lines);
    const tables = [world.names.table];
    // On the wire, for this scenario's table only: the SDK retries the throttling (3 attempts)
    // and hands the cancelled transactions to the tracker, as DynamoDB's answers would.
    const faults: Record<string, FaultHandle> = {
      conflict: await armFault({
        tables,
        operations: 'TransactWriteItems',
        error: 'TransactionConflict',
        rate: 0.1,
        seed: 8,
      }),
      provisioned: await armFault({
        tables,
        operations: '*writes*',
        error: 'ProvisionedThroughputExceededException',
        rate: 0.025,
        seed: 80,
      }),
      throttling: await armFault({
        tables,
        operations: '*writes*',
        error: 'ThrottlingException',
        rate: 0.0257, // of what the first throttle spared: 5 % of the writes in all
        seed: 800,
      }),
    };
    onTestFinished(async () => {
      await Promise.all(Object.values(faults).map((fault) => fault.clear().catch(() => undefined)));
    });

    const answers: Answer[] = [];
    /** One client request, retried on a 5xx as a client would; every answer is kept. */
    async function request(minute: number, link: ScriptedLink, method: 'GET' | 'POST') {
      for (let attempt = 1; attempt <= CLIENT_ATTEMPTS; attempt++) {
        const response =
          method === 'POST'
            ? await world.call('POST', '/links', { body: { linkId: link.linkId } })
            : await world.call('GET', `/links/${link.linkId}`);
        answers.push({ minute, link, method, response });
        if (response.status < 500) return;
        await sleep(50);
      }
      throw new Error(`${method} ${link.linkId}: still failing after ${CLIENT_ATTEMPTS} attempts`);
    }
    /** `callers` clients, each taking the next link of `queue` until none is left. */
    async function clients(
      callers: number,
      queue: ScriptedLink[],
      act: (link: ScriptedLink) => Promise<void>,
    ) {
      await Promise.all(
        Array.from({ length: callers }, async () => {
          for (let link = queue.shift(); link; link = queue.shift()) await act(link);
        }),
      );
    }

    // Registration under the faults: 10 clients at a time, as registerAll does.
    await clients(10, [...links], (link) => request(0, link, 'POST'));

    const runs = await runSchedule({
      clock,
      tracker: world.tracker,
      store: world.sweep,
      ledger,
      log: world.log.logger,
      run: async (minute) => {
        const outcomes = await Promise.allSettled([
          ...Array.from({ length: SCHEDULED_RUNS }, () =>
            runRecheck(
              { tracker: world.tracker, store: world.sweep, log: world.log.logger },
              recheckOptions({ concurrency: RUN_CONCURRENCY }),
            ),
          ),
          clients(API_CALLERS, shuffled(links, minute), (link) => request(minute, link, 'GET')).then(
            () => undefined,
          ),
        ]);
        const failed = outcomes.find(
          (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
        );
        if (failed) throw failed.reason;
        return together(
          outcomes.flatMap((outcome) =>
            outcome.status === 'fulfilled' && outcome.value ? [outcome.value] : [],
          ),
        );
      },
      after: async () => {
        // Nothing half-written after any minute of faults.
        expect.soft(await ledger.halfWritten()).toEqual([]);
      },
    });
    const counts = Object.fromEntries(
      await Promise.all(
        Object.entries(faults).map(async ([name, fault]) => [name, (await fault.read()).injected]),
      ),
    );

    // The API: never a 500, never a 5xx but a 503 that says when to come back.
    const failures = answers
      .filter(({ response }) => response.status >= 500)
      .map(({ minute, link, method, response }) => ({
        minute,
        method,
        linkId: link.linkId,
        status: response.status,
        type: response.body?.type,
        retryAfter: response.headers['retry-after'],
      }));
    const unanswerable = failures.filter(
      (failure) => failure.status !== 503 || !/^[1-9]\d*$/.test(failure.retryAfter ?? ''),
    );
    expect.soft(unanswerable, 'API answers other than a 503 with Retry-After').toEqual([]);
    const retryable = failures.filter((failure) => failure.status === 503).length;
    expect.soft(retryable, 'retryable 503s').toBeLessThan(answers.length / 50);

    // Every other answer showed the link as it really was at that minute.
    const wrong: string[] = [];
    for (const { minute, link, method, response } of answers) {
      if (response.status >= 500) continue;
      const step = link.kind.steps.filter((s) => s.minute <= minute).length;
      const ok = method === 'POST' ? [200, 201] : [200];
      if (!ok.includes(response.status) || response.body?.status !== link.expected[step - 1]!.status)
        wrong.push(`${link.linkId} minute ${minute}: ${response.status} ${JSON.stringify(response.body)}`);
      else if (response.body.sequence !== step)
        wrong.push(`${link.linkId} minute ${minute}: sequence ${response.body.sequence}, expected ${step}`);
    }
    expect.soft(wrong.slice(0, 20)).toEqual([]);

    // Scheduled runs: a conflict is contention (re-read, re-diff), never a lost check; a run or a
    // check fails only when throttling or contention outlived every bounded retry.
    const lostChecks = world.log.lines
      .filter(
        (line) =>
          line.message === 'scheduled check failed' || line.message === 'could not take a shard lease',
      )
      .map((line) => ({ ...(line.attributes[0] as { linkId: string; error: string }), line: line.message }))
      .filter(({ error }) => !RETRIES_OUTLIVED.has(error));
    expect.soft(lostChecks.map(({ line, linkId, error }) => `${line}: ${linkId} ${error}`)).toEqual([]);
    const failedRuns = runs.filter((run) => run.error && !RETRIES_OUTLIVED.has(run.error.split(':')[0]!));
    expect.soft(failedRuns.map((run: RunRecord) => `minute ${run.minute}: ${run.error}`)).toEqual([]);

    // The faults really happened, on the paths under test.
    expect(counts.conflict).toBeGreaterThan(10);
    expect(counts.provisioned! + counts.throttling!).toBeGreaterThan(20);

    const ledgerReport = await ledger.verify();
    report('8-dynamodb-conflicts-and-throttling', ledgerReport, runs, {
      answers: answers.length,
      byStatus: answers.reduce<Record<number, number>>((by, { response }) => {
        by[response.status] = (by[response.status] ?? 0) + 1;
        return by;
      }, {}),
      injected: counts,
      failures: failures.reduce<Record<string, number>>((by, { minute, method, status }) => {
        const key = `${method} minute ${minute} ${status}`;
        by[key] = (by[key] ?? 0) + 1;
        return by;
      }, {}),
      failedChecks: world.log.lines.filter((line) => line.message === 'scheduled check failed').length,
    });
    await world.close();
  });

  it('logged nothing secret or personal', () => {
    expect(logs.lineCount).toBeGreaterThan(0);
    logs.expectClean();
  });
});
