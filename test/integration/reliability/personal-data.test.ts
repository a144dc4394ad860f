import { describe, expect, it } from 'vitest';
import { renderLines, sensitiveFindings } from '#test/support/log-scan.ts';
import { PERSONAL_ACTIVITY, PLANTED, plantedCore } from '#test/support/planted-personal-data.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';
import { scenarioFile } from './scenario.ts';

const file = scenarioFile();
const { logs } = file;

/**
 * One link whose activity carries every planted shape, registered through the API of a tracker with
 * masking on or off: what it published, answered and logged, as one text for the scan.
 */
async function trackPlanted(maskPersonalData: boolean) {
  const { sandbox } = file;
  const world = await trackerFixture({
    sandbox,
    env: { MASK_PERSONAL_DATA: String(maskPersonalData) },
  });
  try {
    const linkId = sandbox.createLink({
      amount: 100,
      timeline: [{ afterMs: 0, status: 'ISSUED', activity: [...PERSONAL_ACTIVITY] }],
    });
    const registered = await world.call('POST', '/links', { body: { linkId } });
    expect(registered.status).toBe(201);
    expect(registered.body.activity).toHaveLength(PERSONAL_ACTIVITY.length);
    const history = await world.call('GET', `/links/${linkId}/events`);
    const events = await world.receiveEvents(1);
    expect(events).toHaveLength(1);
    const published = JSON.stringify(events.map((event) => event.detail));
    const text = [published, JSON.stringify(registered.body), JSON.stringify(history.body)].join('\n');
    // The masking stage's lines join the file's log book; the other's are the proof that can fail.
    if (maskPersonalData) logs.add(world.log.lines);
    return { published, text, logs: renderLines(world.log.lines) };
  } finally {
    await world.close();
  }
}

/** What each finding names, reduced as `plantedCore` reduces a planted value. */
const cores = (findings: readonly string[]) =>
  findings.map((finding) => plantedCore(finding.slice(finding.indexOf(': ') + 2)));

describe('reliability: personal data planted in sandbox activity', () => {
  it('is found by the scan in every planted shape when the stage does not mask (the scan can fail)', async () => {
    const { published, text } = await trackPlanted(false);

    const found = cores(sensitiveFindings(published, []));
    for (const { shape, value } of PLANTED)
      expect(found, `the scan missed the planted ${shape}`).toContain(plantedCore(value));
    expect(cores(sensitiveFindings(text, []))).toEqual(expect.arrayContaining(found));
  });

  it('reaches no event, answer or log unmasked when the stage masks, in any planted shape', async () => {
    const { published, text, logs } = await trackPlanted(true);

    expect(sensitiveFindings(text, [])).toEqual([]);
    expect(sensitiveFindings(logs, [])).toEqual([]);
    // Masked to the contract forms, not dropped.
    for (const form of [
      '98XXXXXX10',
      '+91 84XXXXXX47',
      'XXXXXXXXXXXX5742',
      '"91XXXXXX80"',
      'b***@example.com',
    ])
      expect(published).toContain(form);
    expect(published).toContain('"activityAt":"');
    expect(published).toContain('"accountIfsc":"YESB0CMSNOC"');
  });

  it('logged nothing secret or personal', () => {
    expect(logs.lineCount).toBeGreaterThan(0);
    logs.expectClean();
  });
});
