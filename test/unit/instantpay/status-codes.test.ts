import { describe, expect, it } from 'vitest';
import { classifyStatusCode } from '#shared/instantpay/status-codes.ts';

describe('classifyStatusCode', () => {
  it('treats TXN as the only success', () => {
    expect(classifyStatusCode('TXN')).toBe('success');
  });

  it.each(['TUP', 'ISE', 'IPE', 'SPD', 'SPE', 'ERR', 'FAB', 'TSU', 'SNA', 'USM', 'UED', 'IEC'])(
    'treats %s as pending or transient, never as a failure',
    (code) => {
      expect(classifyStatusCode(code)).toBe('transient');
    },
  );

  it.each(['IAC', 'IAT', 'UAD', 'OUI', 'AAB', 'KYC', 'CNL'])('treats %s as a credentials problem', (code) => {
    expect(classifyStatusCode(code)).toBe('credentials');
  });

  it.each(['RPI', 'ITI', 'IRT', 'VCI', 'OUE'])('treats %s as a bad request (the link id)', (code) => {
    expect(classifyStatusCode(code)).toBe('request');
  });

  it.each(['RNF', 'ZZZ', 'txn', '', 'TXN '])('treats %j, which is not in the list, as unknown', (code) => {
    expect(classifyStatusCode(code)).toBe('unknown');
  });
});
