import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskAccountNumber, maskNumber, maskText } from '#shared/masking.ts';

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

describe('maskText: numbers as people write them', () => {
  it.each([
    ['+91 84304 54547', '+91 84XXXXXX47'],
    ['+91-84304-54547', '+91-84XXXXXX47'],
    ['+918430454547', '+9184XXXXXX47'],
    ['91 8430454547', '91 84XXXXXX47'],
    ['84304 54547', '84XXXXXX47'],
    ['843-045-4547', '84XXXXXX47'],
    ['8430.45.4547', '84XXXXXX47'],
    ['84304 - 54547', '84XXXXXX47'],
    ['(+91) 84304 54547', '(+91) 84XXXXXX47'],
  ])('masks the phone number %s to the contract form (%s)', (phone, masked) => {
    expect(maskText(`call ${phone} now`)).toBe(`call ${masked} now`);
  });

  it.each([
    ['7770-0074-2858-5742', 'XXXXXXXXXXXX5742'],
    ['7770 0074 2858 5742', 'XXXXXXXXXXXX5742'],
    ['777 000 742 858 5742', 'XXXXXXXXXXXX5742'],
    ['8420-2012-11-2345', 'XXXXXXXXXX2345'],
    ['2012-11-23-4567', 'XXXXXXXX4567'],
    ['08430454547', 'XXXXXXX4547'],
    ['918430454547', 'XXXXXXXX4547'],
  ])('masks the account number %s to its last four digits (%s)', (account, masked) => {
    expect(maskText(`credited to ${account}.`)).toBe(`credited to ${masked}.`);
  });

  it.each([
    ['acct7770007428585742', 'acctXXXXXXXXXXXX5742'],
    ['AC_7770007428585742', 'AC_XXXXXXXXXXXX5742'],
    ['ph_8430454547', 'ph_84XXXXXX47'],
    ['mobile8430454547', 'mobile84XXXXXX47'],
    ['mobile:8430454547;', 'mobile:84XXXXXX47;'],
    ['tel=+918430454547', 'tel=+9184XXXXXX47'],
  ])('masks a number glued to letters, _ or punctuation: %s', (text, masked) => {
    expect(maskText(text)).toBe(masked);
  });

  it.each([
    ['+44 8430454547', '+XXXXXXXX4547'],
    ['+447700900123', '+XXXXXXXX0123'],
    ['918430 454547', 'XXXXXXXX4547'],
    ['918430-454547', 'XXXXXXXX4547'],
  ])('masks %s, not an Indian mobile number as written, as an account number (%s)', (written, masked) => {
    expect(maskText(`call ${written} now`)).toBe(`call ${masked} now`);
  });

  it('masks two numbers side by side without showing more of either', () => {
    const masked = maskText('sent to 8430454547 7770007428585742');
    expect(masked).not.toMatch(/\d{5}/);
    expect(masked).toMatch(/5742$/);
  });

  it('masks every e-mail local part to its first character, underscores and dots included', () => {
    expect(maskText('to first_last@example.co.in, a.b+c@example.com;')).toBe(
      'to f***@example.co.in, a***@example.com;',
    );
  });

  it('keeps what is not personal: date-times, decimals and amounts, order ids, IFSC codes, UUIDs, short numbers', () => {
    for (const text of [
      'Payout link created at 2023-12-12 14:51:31',
      'observed 2026-12-03T10:00:00.000Z, due 2026-12-03T15:30:00+05:30',
      'on 12-12-2023 14:51:31 and 12/12/2023',
      'order 1231212092131KTMDF via YESB0CMSNOC',
      'amount 120.11, Rs 1,20,000.00, 500 INR, 12345678.50',
      'ipay_uuid h00012345678-3456-4abc-8def-916101402412-Ab3dE5gH7jK9',
      'event 123e4567-e89b-12d3-a456-426614174000',
      'attempt 3 of 200 after 12 ms, 10:00 to 11:30, PIN 560001',
      'already masked: 84XXXXXX47, +91 84XXXXXX47, XXXXXXXXXXXX5742, a***@example.com',
    ]) {
      expect(maskText(text)).toBe(text);
    }
  });

  it('never lets a phone or account number through, whatever separates its digits or glues it', () => {
    const separator = fc.constantFrom('', ' ', '-', '\u00a0');
    const glue = fc.constantFrom('', ' ', '_', 'acct', 'ph_', ':', '"', '(', 'Ref#', 'A-');
    const grouped = (digits: string, cuts: number[], sep: string) => {
      let out = '';
      [...digits].forEach((digit, index) => {
        out += (index > 0 && cuts.includes(index) ? sep : '') + digit;
      });
      return out;
    };
    fc.assert(
      fc.property(
        fc.oneof(fc.stringMatching(/^[6-9]\d{9}$/), fc.stringMatching(/^\d{9,18}$/)),
        fc.array(fc.integer({ min: 1, max: 17 }), { maxLength: 4 }),
        separator,
        glue,
        fc.constantFrom('', '+91 ', '+91-', '+91'),
        (digits, cuts, sep, before, prefix) => {
          const phone = /^[6-9]\d{9}$/.test(digits);
          const written = `${before}${phone ? prefix : ''}${grouped(digits, cuts, sep)}`;
          const compact = maskText(`x ${written} y`).replace(/[\s\u00a0-]/g, '');
          // Never the number, nor more than the contract shows: the first two and last two digits of a
          // phone, the last four of an account number.
          expect(compact).not.toContain(phone ? digits.slice(2, 8) : digits.slice(0, -4));
          expect(compact).not.toMatch(/\d{5}/);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives the same text when applied twice', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.stringMatching(/^[6-9]\d{9}$/),
            fc.stringMatching(/^\d{9,18}$/),
            fc.constantFrom(
              '+91 84304 54547',
              '7770-0074-2858-5742',
              'a.b@example.com',
              '2023-12-12 14:51:31',
            ),
          ),
        ),
        (parts) => {
          const once = maskText(parts.join(' '));
          expect(maskText(once)).toBe(once);
        },
      ),
    );
  });
});

describe('maskText: what is not personal is kept whole, and never joined to a number beside it', () => {
  it.each([
    ['an ISO date', '2024-05-07'],
    ['an ISO date late in the year', '2023-12-19'],
    ['an ISO date on the 31st', '2023-10-31'],
    ["InstantPay's date-time", '2023-12-12 14:51:31'],
    ['a UTC date-time to the nanosecond', '2026-12-03T23:59:59.123456789Z'],
    ['a date-time to the nanosecond with an offset', '2026-12-03T09:05:00.123456789+05:30'],
    ['a date-time with a compact offset', '2026-12-03T15:30:00+0530'],
    ['a date-time to the minute with an offset', '2026-12-03T15:30+05:30'],
    ['a date-time to the minute with a compact offset', '2026-12-03T15:30+0530'],
    ['a local date-time to the nanosecond', '2026-12-03T10:00:00.123456789'],
    ['a date-time with a negative offset', '2026-12-03T15:30:00-08:00'],
    ['a day-first date in single digits', '7/5/2024'],
    ['a day-first date with dots', '07.05.2024'],
    ['a day-first date with dashes', '12-12-2023'],
    ['a day-first date on the 31st', '31/10/2023'],
    ['a day-first date on the 29th', '29-02-2024'],
    ['a day-first date of the last century', '1/12/1999'],
    ['a time in one-digit hours', '9:05'],
    ['a time with seconds', '14:51:31'],
    ['a time late in the day', '23:59'],
    ['a time to the minute', '10:00'],
    ['a UUID', '123e4567-e89b-12d3-a456-426614174000'],
    [
      "InstantPay's ipay_uuid with digits in its suffix",
      'h0009ad8a2eb-7790-4fe2-a9af-8cdb732d668c-Wb123456789X',
    ],
    ["InstantPay's order id", '1231212092131KTMDF'],
    ['an amount', '120.11'],
    ['an amount to one place', '12345678.5'],
    ['an amount under one', '0.99'],
  ])('keeps %s (%s) beside a phone number, which alone is masked', (_what, kept) => {
    expect(maskText(`${kept} 8430454547`)).toBe(`${kept} 84XXXXXX47`);
    expect(maskText(`8430454547 ${kept}`)).toBe(`84XXXXXX47 ${kept}`);
    expect(maskText(`at ${kept}, 8430454547`)).toBe(`at ${kept}, 84XXXXXX47`);
  });
});

describe('maskText: hostile input', () => {
  // An upstream answer is up to 1 MB of text, masked before anything else. Masking time must grow
  // with the text, not its square: 100 KB of digits took 40 s before the fix, 1 MB would take an
  // hour; linear, it is milliseconds. A synchronous hang cannot be timed out in-process, so the
  // masking runs in a child process with a no-hang bound (a bound, not a speed target).
  it('masks 1 MB of each hostile shape (letters, digits, dashes, dots, spaces, underscores) without hanging', () => {
    const units = ['x', '1', '12-', 'a.', '1 ', 'a@', '_1', 'a-1.'];
    const script = `
      import { maskText } from '#shared/masking.ts';
      for (const unit of ${JSON.stringify(units)}) maskText(unit.repeat(Math.ceil(1_000_000 / unit.length)));
      process.stdout.write('done');
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
      timeout: 30_000,
    });

    expect({ signal: child.signal, stderr: child.stderr.slice(0, 500) }).toEqual({
      signal: null,
      stderr: '',
    });
    expect(child.stdout).toBe('done');
  }, 40_000);
});

describe('maskNumber', () => {
  it('masks a phone or account number given as a JSON number, to the masked string', () => {
    expect(maskNumber(8430454547)).toBe('84XXXXXX47');
    expect(maskNumber(7770007428585742)).toBe('XXXXXXXXXXXX5742');
  });

  it('keeps amounts and counts as the numbers they are', () => {
    for (const value of [120.11, 0.5, 500, 12345678, -3]) expect(maskNumber(value)).toBe(value);
  });
});

describe('maskAccountNumber', () => {
  it('keeps only the last four digits, and none of a number of four digits or fewer', () => {
    expect(maskAccountNumber('7770007428585742')).toBe('XXXXXXXXXXXX5742');
    expect(maskAccountNumber('12345')).toBe('X2345');
    expect(maskAccountNumber('1234')).toBe('XXXX');
    expect(maskAccountNumber('123')).toBe('XXX');
  });

  it('drops the spaces and dashes a number is written with', () => {
    expect(maskAccountNumber('7770-0074-2858-5742')).toBe('XXXXXXXXXXXX5742');
    expect(maskAccountNumber(' 7770 0074 2858 5742 ')).toBe('XXXXXXXXXXXX5742');
  });
});
