import { describe, expect, it } from 'vitest';
import { classifyStatusCode } from '#shared/instantpay/status-codes.ts';
import { PUBLISHED_STATUS_CODES } from '#test/support/instantpay-published.ts';

const INTEGRATION_FAULTS = ['RPI', 'IRT', 'VCI', 'OUE'];
const CREDENTIALS = ['IAC', 'IAT', 'UAD', 'OUI', 'IUA', 'AAB', 'KYC', 'CNL'];
const TRANSIENT = ['ISE', 'IPE', 'SPD', 'SPE', 'ERR', 'FAB', 'TSU', 'SNA', 'USM', 'UED', 'IEC'];

describe('classifyStatusCode against the published statuscode table', () => {
  it.each(PUBLISHED_STATUS_CODES.map((row) => [row.code, row.text, row.class] as const))(
    'classifies %s (%s) as the table says: %s',
    (code, _text, published) => {
      const cls = classifyStatusCode(code);
      expect(cls, 'a code the table lists is never unknown').not.toBe('unknown');
      if (published === 'success') expect(cls).toBe('success');
      else if (published === 'pending') expect(cls).toBe('pending');
      else expect(['success', 'pending']).not.toContain(cls);
    },
  );

  it('treats TXN as the only success and TUP as the only pending code', () => {
    const success = PUBLISHED_STATUS_CODES.filter((row) => classifyStatusCode(row.code) === 'success');
    const pending = PUBLISHED_STATUS_CODES.filter((row) => classifyStatusCode(row.code) === 'pending');
    expect(success.map((row) => row.code)).toEqual(['TXN']);
    expect(pending.map((row) => row.code)).toEqual(['TUP']);
  });

  it.each(INTEGRATION_FAULTS)(
    'treats %s as an integration fault (our request or configuration), never as an unknown link',
    (code) => {
      expect(classifyStatusCode(code)).toBe('integration');
    },
  );

  it('treats ITI (Invalid Transaction ID) as the one code that says the link is not known', () => {
    const notFound = PUBLISHED_STATUS_CODES.filter((row) => classifyStatusCode(row.code) === 'not-found');
    expect(notFound.map((row) => row.code)).toEqual(['ITI']);
  });

  it.each(CREDENTIALS)('treats %s as a credentials or account problem for an operator', (code) => {
    expect(classifyStatusCode(code)).toBe('credentials');
  });

  it.each(TRANSIENT)('treats %s, a provider-side failure, as transient (retry later)', (code) => {
    expect(classifyStatusCode(code)).toBe('transient');
  });

  it('treats every other listed code as a failure the tracker has no use for', () => {
    const specific = new Set(['TXN', 'TUP', 'ITI', ...INTEGRATION_FAULTS, ...CREDENTIALS, ...TRANSIENT]);
    for (const row of PUBLISHED_STATUS_CODES.filter((r) => !specific.has(r.code))) {
      expect(classifyStatusCode(row.code), row.code).toBe('failure');
    }
  });

  it.each(['ZZZ', 'txn', '', 'TXN ', 'iac'])(
    'treats %j, which the table does not list, as unknown',
    (code) => {
      expect(classifyStatusCode(code)).toBe('unknown');
    },
  );
});
