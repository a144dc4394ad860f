import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LinkActivity } from '#shared/link/link-observation.ts';
import { maskActivity } from '#shared/link/mask-activity.ts';

/**
 * The sample response's entries of `upstream/track-link-api.txt`. The published page shows the
 * e-mail address as "[email protected]" (an obfuscation of the page); a plain address stands in.
 */
const CREATED: LinkActivity = { status: 'Payout link created', activityAt: '2023-12-12 14:51:25' };
const NOTIFIED: LinkActivity = {
  status: 'Payout link notification sent to 8430454547 and alice@example.com',
  activityAt: '2023-12-12 14:51:26',
};
const VERIFIED: LinkActivity = {
  status: 'Beneficiary verification successful',
  activityAt: '2023-12-12 14:51:31',
  orderId: '1231212092131KTMDF',
  accountType: 'ACCOUNT',
  accountNumber: '7770007428585742',
  accountIfsc: 'YESB0CMSNOC',
};
const CLAIMED: LinkActivity = {
  status: 'Link Claimed successfully',
  activityAt: '2023-12-12 14:51:31',
  orderId: '1231212092131FDBUT',
  accountType: 'ACCOUNT',
  accountNumber: '7770007428585742',
  accountIfsc: 'YESB0CMSNOC',
};

describe('maskActivity', () => {
  it('leaves an entry without personal data as it is', () => {
    expect(maskActivity(CREATED)).toEqual(CREATED);
  });

  it('masks the phone number and e-mail address of the notification entry', () => {
    expect(maskActivity(NOTIFIED)).toEqual({
      status: 'Payout link notification sent to 84XXXXXX47 and a***@example.com',
      activityAt: '2023-12-12 14:51:26',
    });
  });

  it('masks the account number to its last four digits and keeps the order id, IFSC, type and time', () => {
    expect(maskActivity(VERIFIED)).toEqual({
      status: 'Beneficiary verification successful',
      activityAt: '2023-12-12 14:51:31',
      orderId: '1231212092131KTMDF',
      accountType: 'ACCOUNT',
      accountNumber: 'XXXXXXXXXXXX5742',
      accountIfsc: 'YESB0CMSNOC',
    });
    expect(maskActivity(CLAIMED).accountNumber).toBe('XXXXXXXXXXXX5742');
    expect(maskActivity(CLAIMED).orderId).toBe('1231212092131FDBUT');
  });

  it('masks the sample published text whose address the page obfuscated', () => {
    const entry = {
      ...NOTIFIED,
      status: 'Payout link notification sent to 8430454547 and [email protected]',
    };

    expect(maskActivity(entry).status).toBe(
      'Payout link notification sent to 84XXXXXX47 and [email protected]',
    );
  });

  it('masks unknown extra string fields too', () => {
    const entry = {
      ...CREATED,
      beneficiaryEmail: 'alice@example.com',
      beneficiaryMobile: '8430454547',
      remark: 'credited to 7770007428585742',
    } as LinkActivity;

    expect(maskActivity(entry)).toEqual({
      ...CREATED,
      beneficiaryEmail: 'a***@example.com',
      beneficiaryMobile: '84XXXXXX47',
      remark: 'credited to XXXXXXXXXXXX5742',
    });
  });

  it('keeps missing or null optional fields as they are', () => {
    const entry: LinkActivity = { ...CREATED, orderId: null, accountNumber: null, accountIfsc: undefined };

    expect(maskActivity(entry)).toEqual(entry);
  });

  it('does not modify the entry it is given', () => {
    const entry = { ...VERIFIED };

    maskActivity(entry);

    expect(entry).toEqual(VERIFIED);
  });

  it('gives the same result when applied twice', () => {
    for (const entry of [CREATED, NOTIFIED, VERIFIED, CLAIMED]) {
      expect(maskActivity(maskActivity(entry))).toEqual(maskActivity(entry));
    }
  });

  it('never lets more than the last four digits of an account number through', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{9,18}$/), (accountNumber) => {
        const masked = maskActivity({ ...VERIFIED, accountNumber }).accountNumber!;

        expect(masked).toBe(`${'X'.repeat(accountNumber.length - 4)}${accountNumber.slice(-4)}`);
      }),
    );
  });

  it('masks contact details nested in an unknown extra field', () => {
    // InstantPay may add fields without notice (the schema keeps them); the contract says contact
    // details in activity are masked, wherever they sit in the entry.
    const entry = {
      ...CREATED,
      notifiedTo: ['8430454547', 'alice@example.com'],
      beneficiary: { mobile: '8430454547', email: 'alice@example.com' },
    } as LinkActivity;

    const masked = JSON.stringify(maskActivity(entry));

    expect(masked).not.toContain('8430454547');
    expect(masked).not.toContain('alice@example.com');
  });

  it('masks phone and account numbers given as JSON numbers, as the masked string', () => {
    const entry = {
      ...CREATED,
      beneficiaryMobile: 8430454547,
      beneficiaryAccount: 7770007428585742,
      beneficiary: { contacts: [{ mobile: 9876543210 }], account: { number: 7770007428585742 } },
    } as LinkActivity;

    expect(maskActivity(entry)).toEqual({
      ...CREATED,
      beneficiaryMobile: '84XXXXXX47',
      beneficiaryAccount: 'XXXXXXXXXXXX5742',
      beneficiary: { contacts: [{ mobile: '98XXXXXX10' }], account: { number: 'XXXXXXXXXXXX5742' } },
    });
  });

  it('masks an account number written with dashes or spaces, or given as a number', () => {
    for (const accountNumber of ['7770-0074-2858-5742', '7770 0074 2858 5742', 7770007428585742]) {
      const entry = { ...VERIFIED, accountNumber } as unknown as LinkActivity;
      expect(maskActivity(entry).accountNumber).toBe('XXXXXXXXXXXX5742');
    }
  });

  it('masks numbers glued to letters and written with separators in any text field', () => {
    const entry = {
      ...CREATED,
      status: 'Beneficiary acct7770007428585742 notified on +91 84304 54547 (ph_8430454547)',
      remark: ['account 7770-0074-2858-5742'],
    } as LinkActivity;

    expect(maskActivity(entry)).toEqual({
      ...CREATED,
      status: 'Beneficiary acctXXXXXXXXXXXX5742 notified on +91 84XXXXXX47 (ph_84XXXXXX47)',
      remark: ['account XXXXXXXXXXXX5742'],
    });
  });

  it('passes the time, order id, account type and IFSC through as InstantPay sent them, whatever they hold', () => {
    // Fields the contract names as not personal: never run through the text masker, even when a
    // future format makes them look like a number.
    const entry = {
      ...VERIFIED,
      activityAt: '1702372891000',
      orderId: '84304545470001',
      accountType: '9876543210',
      accountIfsc: '777000742858',
    } as LinkActivity;

    expect(maskActivity(entry)).toEqual({ ...entry, accountNumber: 'XXXXXXXXXXXX5742' });
  });

  it('masks a short account number to its last four digits, given as a string or a number', () => {
    for (const accountNumber of ['12345678', 12345678]) {
      const entry = { ...VERIFIED, accountNumber } as unknown as LinkActivity;
      expect(maskActivity(entry).accountNumber).toBe('XXXX5678');
    }
  });

  it('keeps a number only where the key names an amount or a time as its last word', () => {
    const entry = {
      ...CREATED,
      timestamp: 1702372891,
      eventTimestamp: 1702372891,
      mobileAtHome: 8430454547,
    } as LinkActivity;

    expect(maskActivity(entry)).toEqual({
      ...CREATED,
      timestamp: 1702372891,
      eventTimestamp: 1702372891,
      mobileAtHome: '84XXXXXX47',
    });
  });

  it('keeps booleans and nulls of extra fields as they are', () => {
    const entry = { ...CREATED, verified: true, notified: false, reason: null } as LinkActivity;

    expect(maskActivity(entry)).toStrictEqual(entry);
  });

  it('keeps what is not personal: the time, order id, IFSC and type, amounts, counts and times as numbers', () => {
    const entry = {
      ...VERIFIED,
      accountNumber: null,
      amount: 120.11,
      amountPaise: 1234567890,
      attempts: 3,
      notifiedAt: 1702372891000,
      retryTime: 1702372891,
      note: 'Paid 120.11 at 2023-12-12 14:51:31 for order 1231212092131KTMDF',
    } as LinkActivity;

    expect(maskActivity(entry)).toEqual(entry);
  });
});
