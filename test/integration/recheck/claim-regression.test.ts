import { expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { startSandbox } from '#infra/sandbox/server.ts';
import { runRecheck } from '#shared/recheck/recheck-run.ts';
import { recheckOptions } from '#test/support/recheck-options.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

it('one failed write of a scheduled check does not abort the run, and its link stays due for the next', async () => {
  const clock = new ManualClock(Date.parse('2026-12-06T10:00:00Z'));
  const sandbox = await startSandbox({ clock });
  const world = await trackerFixture({ clock, sandbox });
  const linkIds = Array.from({ length: 20 }, () =>
    sandbox.createLink({ amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] }),
  );
  for (const linkId of linkIds) await world.call('POST', '/links', { body: { linkId } });
  clock.advance(2 * 60_000);
  const store = world.store;
  const touch = store.touchIfUnchanged.bind(store);
  let touches = 0;
  let failedLink: string | undefined;
  store.touchIfUnchanged = async (observed, ...rest) => {
    if (++touches === 3) {
      failedLink = observed.linkId;
      throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    }
    return touch(observed, ...rest);
  };
  const before = sandbox.stats().total;
  const outcome = await runRecheck(
    { tracker: world.tracker, store: world.sweep },
    recheckOptions({ concurrency: 4 }),
  ).then(
    (summary) => ({ summary }),
    (error: Error) => ({ error: error.message }),
  );
  const atReturn = sandbox.stats().total - before;
  await new Promise((r) => setTimeout(r, 1500));
  const later = sandbox.stats().total - before;
  expect(outcome).toMatchObject({ summary: { linksChecked: 19, otherErrors: 1 } });
  // Nothing went on checking after the run returned.
  expect(later).toBe(atReturn);

  // The link whose write failed was left due, not lost: the next run checks it, and only it.
  const next = await runRecheck({ tracker: world.tracker, store: world.sweep }, recheckOptions());
  expect(next).toMatchObject({ linksChecked: 1, otherErrors: 0 });
  expect(sandbox.stats().trackCalls[failedLink!]).toBe(3);
  await world.close();
  await sandbox.close();
});
