import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskAccountNumber, maskText } from '#shared/masking.ts';

describe('maskText', () => {
  it('masks the sample activity as the contract shows', () => {
    expect(maskText('Payout link notification sent to 8430454547 and alice@example.com')).toBe(
      'Payout link notification sent to 84XXXXXX47 and a***@example.com',
    );
  });

  it('masks a bare account number to its last four digits', () => {
    expect(maskText('credited to 7770007428585742')).toBe('credited to XXXXXXXXXXXX5742');
  });

  it('masks a phone number with its country code', () => {
    expect(maskText('call +91 9876543210')).toBe('call +91 98XXXXXX10');
  });

  it('leaves order ids, IFSC codes and times alone', () => {
    const text = 'order 1231212092131KTMDF via YESB0CMSNOC at 2023-12-12 14:51:31';
    expect(maskText(text)).toBe(text);
  });

  it('never lets a ten-digit phone or a long account number through', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.stringMatching(/^[6-9]\d{9}$/),
        fc.stringMatching(/^\d{11,18}$/),
        fc.string(),
        (before, phone, account, after) => {
          const masked = maskText(`${before} ${phone} ${after} ${account} ${before}`);
          expect(masked).not.toContain(` ${phone} `);
          expect(masked).not.toContain(` ${account} `);
        },
      ),
    );
  });
});

describe('maskAccountNumber', () => {
  it('keeps only the last four digits', () => {
    expect(maskAccountNumber('7770007428585742')).toBe('XXXXXXXXXXXX5742');
    expect(maskAccountNumber('123')).toBe('XXX');
  });
});
