import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LinkActivity } from '#shared/link/link-observation.ts';
import { maskActivity } from '#shared/link/mask-activity.ts';
import { sensitiveFindings } from '#test/support/log-scan.ts';
import { PERSONAL_ACTIVITY, PLANTED, plantedCore } from '#test/support/planted-personal-data.ts';

const scan = (value: unknown) =>
  sensitiveFindings(typeof value === 'string' ? value : JSON.stringify(value), []);

/** What each finding names, reduced as `plantedCore` reduces a planted value. */
const cores = (findings: readonly string[]) =>
  findings.map((finding) => plantedCore(finding.slice(finding.indexOf(': ') + 2)));

describe('sensitiveFindings (the scan of logs and events, independent of the masker)', () => {
  it.each(PLANTED.map((planted) => [planted.shape, planted.value] as const))(
    'finds a planted %s left unmasked (%s)',
    (_shape, value) => {
      expect(cores(scan({ status: 'x', field: value }))).toContain(plantedCore(value));
      expect(cores(scan(`{"status":"x","field":${JSON.stringify(value)}}`))).toContain(plantedCore(value));
    },
  );

  it('finds every planted value in the planted activity as InstantPay sends it', () => {
    const found = cores(scan(PERSONAL_ACTIVITY));
    for (const { value } of PLANTED) expect(found).toContain(plantedCore(value));
  });

  it('finds nothing in the planted activity once the tracker masked it', () => {
    const masked = PERSONAL_ACTIVITY.map((entry) => maskActivity(entry as LinkActivity));
    expect(scan(masked)).toEqual([]);
    expect(JSON.stringify(masked)).toContain('XXXXXXXXXXXX5742');
  });

  it('does not take identifiers, times and amounts for personal data', () => {
    const clean = {
      eventId: 'a3e1f7c2-9b4d-5e6f-8a7b-123456789012',
      ipayUuid: 'h00012345678-3456-4abc-8def-916101402412-Ab3dE5gH7jK9',
      linkId: '65704add83911e52b70ebcbc',
      ledgerLinkId: 'claimed-3fa9c1-012',
      orderId: '1231212092131KTMDF',
      accountIfsc: 'YESB0CMSNOC',
      activityAt: '2023-12-12 14:51:31',
      observedAt: '2026-12-03T10:00:00.000Z',
      offsetAt: '2026-12-03T15:30:00+05:30',
      at: 1796119260000,
      seconds: 1796119260,
      amount: 120.11,
      bigAmount: '1234567890.50',
      sequence: 12,
      checks: [60, 120, 3600],
      text: 'GET /payments/payout/link/track/65704add83911e52b70ebcbc -> 200 in 12 ms, 3 of 200 links',
      masked: 'sent to 98XXXXXX10, +91 84XXXXXX47 and b***@example.com, account XXXXXXXXXXXX5742',
    };
    expect(scan(clean)).toEqual([]);
  });

  it('never flags a masked phone or account number, however it is embedded', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[6-9]\d$/),
        fc.stringMatching(/^\d{2}$/),
        fc.stringMatching(/^\d{4}$/),
        fc.integer({ min: 5, max: 14 }),
        fc.constantFrom('', ' ', '_', 'a', '"', ':', '+91 '),
        (head, tail, last4, xs, glue) => {
          expect(scan(`${glue}${head}XXXXXX${tail}${glue}`)).toEqual([]);
          expect(scan(`${glue}${'X'.repeat(xs)}${last4}${glue}`)).toEqual([]);
        },
      ),
    );
  });

  it('reports a secret by its label, never by its value', () => {
    const secret = { label: 'the InstantPay client secret', value: 'not-a-real-secret-3c1f9a7e' };
    expect(sensitiveFindings(`{"header":"${secret.value}"}`, [secret])).toEqual([
      'contains the InstantPay client secret',
    ]);
  });
});
