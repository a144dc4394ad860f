import { describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { runRecheck } from '#shared/recheck/recheck-run.ts';
import { registerAll, runSchedule, type ScriptedLink } from '#test/support/ledger.ts';
import { recheckOptions } from '#test/support/recheck-options.ts';
import type { ApiResponse } from '#test/support/tracker-fixture.ts';
import { report, scenarioFile, scenarioWorld } from './scenario.ts';

const clock = new ManualClock(Date.parse('2026-12-04T10:00:00Z'));
const file = scenarioFile(clock);
const { logs } = file;

const CALLERS = 50;
const BUSY = 'urn:payout-link-tracker:problem:busy';

describe('reliability: one link, many checkers', () => {
  it('6. the same link checked by 50 concurrent on-demand calls and a recheck run at once: one change recorded per real change', {
    timeout: 240_000,
  }, async () => {
    const { world, links, ledger } = await scenarioWorld('contention', { sandbox: file.sandbox, clock });
    logs.add(world.log.lines);
    // The hot link goes PROCESSING -> ISSUED (the claim failed) -> CLAIMED while it is raced.
    const hot = [links.find((link) => link.kind.name === 'claim-failed-then-claimed')!];
    const answers: Array<{ minute: number; link: ScriptedLink; response: ApiResponse }> = [];
    const race = (minute: number, request: (link: ScriptedLink) => Promise<ApiResponse>) =>
      hot.flatMap((link) =>
        Array.from({ length: CALLERS }, async () => {
          answers.push({ minute, link, response: await request(link) });
        }),
      );

    // Registration races too: 50 concurrent POST /links for the hot link, one call for each other link.
    await Promise.all([
      registerAll(
        world.call,
        links.filter((link) => !hot.includes(link)),
      ),
      ...race(0, (link) => world.call('POST', '/links', { body: { linkId: link.linkId } })),
    ]);
    const runs = await runSchedule({
      clock,
      tracker: world.tracker,
      store: world.sweep,
      ledger,
      log: world.log.logger,
      run: async (minute) => {
        const [summary] = await Promise.all([
          runRecheck({ tracker: world.tracker, store: world.sweep, log: world.log.logger }, recheckOptions()),
          ...race(minute, (link) => world.call('GET', `/links/${link.linkId}`)),
        ]);
        return summary;
      },
    });
    expect(runs.map((run) => run.error).filter(Boolean)).toEqual([]);

    // Every caller got the link as it really was at that minute (or, rarely, a retryable "busy").
    const problems: string[] = [];
    for (const { minute, link, response } of answers) {
      const step = link.kind.steps.filter((s) => s.minute <= minute).length;
      if (response.status === 503 && response.body.type === BUSY) continue;
      const ok = minute === 0 ? [200, 201] : [200];
      if (!ok.includes(response.status) || response.body.status !== link.expected[step - 1]!.status) {
        problems.push(`${link.linkId} minute ${minute}: ${response.status} ${JSON.stringify(response.body)}`);
      } else if (response.body.sequence !== step) {
        problems.push(
          `${link.linkId} minute ${minute}: sequence ${response.body.sequence}, expected ${step}`,
        );
      }
    }
    expect(problems).toEqual([]);
    expect(answers).toHaveLength(hot.length * CALLERS * (runs.length + 1));
    // Of the racing registrations, only the one whose write created the link answered 201.
    expect(answers.filter((a) => a.minute === 0 && a.response.status === 201)).toHaveLength(hot.length);
    const busy = answers.filter((a) => a.response.status === 503).length;
    expect(busy).toBeLessThan(answers.length / 10);
    const ledgerReport = await ledger.verify();
    report('6-contention', ledgerReport, runs, {
      callers: answers.length,
      busy,
      created: answers.filter((a) => a.response.status === 201).length,
      conflicts: runs.reduce((sum, run) => sum + (run.summary?.leaseConflicts ?? 0), 0),
    });
    await world.close();
  });

  it('logged nothing secret or personal', () => {
    expect(logs.lineCount).toBeGreaterThan(0);
    logs.expectClean();
  });
});
