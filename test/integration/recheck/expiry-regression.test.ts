import { expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { startSandbox } from '#infra/sandbox/server.ts';
import { runRecheck } from '#shared/recheck/recheck-run.ts';
import { recheckOptions } from '#test/support/recheck-options.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

const MINUTE = 60_000;

it('a link whose one check past expiresAt fails upstream is still watched until a check succeeds', async () => {
  const clock = new ManualClock(Date.parse('2026-12-06T10:00:00Z'));
  const sandbox = await startSandbox({ clock });
  const world = await trackerFixture({ clock, sandbox });
  const t0 = clock.now();
  // InstantPay expires the link at 3 min; the merchant registered it with that expiresAt.
  const linkId = sandbox.createLink({
    amount: 10,
    timeline: [
      { afterMs: 0, status: 'ISSUED' },
      { afterMs: 3 * MINUTE, status: 'EXPIRED' },
    ],
  });
  const registered = await world.call('POST', '/links', {
    body: { linkId, expiresAt: new Date(t0 + 3 * MINUTE).toISOString() },
  });
  expect(registered.status).toBe(201);
  for (let minute = 1; minute <= 10; minute++) {
    clock.advance(MINUTE);
    // InstantPay is under process (TUP) for exactly the minute of the check past expiresAt.
    if (minute === 3) sandbox.addFault({ kind: 'statuscode', value: 'TUP' });
    await runRecheck({ tracker: world.tracker, store: world.sweep }, recheckOptions());
    sandbox.clearFaults();
  }
  const events = await world.call('GET', `/links/${linkId}/events`);
  expect(events.body.events.map((e: { status: string }) => e.status)).toEqual(['ISSUED', 'EXPIRED']);
  await world.close();
  await sandbox.close();
});
