import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIst, parseIst } from '#shared/instantpay/ist-time.ts';

describe('IST times', () => {
  it('reads InstantPay times as Indian Standard Time', () => {
    expect(parseIst('2023-12-12 14:51:25')).toBe(Date.parse('2023-12-12T09:21:25Z'));
  });

  it('formats an instant as IST wall-clock time', () => {
    expect(formatIst(Date.parse('2023-12-14T11:12:49Z'))).toBe('2023-12-14 16:42:49');
  });

  it('rejects anything that is not a real YYYY-MM-DD HH:mm:ss', () => {
    for (const text of ['2023-02-31 10:00:00', '2023-12-12T14:51:25', '', '2023-12-12 24:00:00']) {
      expect(parseIst(text)).toBeUndefined();
    }
  });

  it('round-trips every second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800 }), (seconds) => {
        expect(parseIst(formatIst(seconds * 1000))).toBe(seconds * 1000);
      }),
    );
  });
});
