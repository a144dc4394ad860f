/**
 * Personal data the tests plant in sandbox activity, in the shapes InstantPay (or a field it adds one
 * day) may use: the tracker must mask every one before it stores, publishes or logs it, and the scan
 * of `log-scan.ts` must find every one left unmasked.
 */

/** One planted value: where and how it is written, and the value as planted. */
export interface PlantedValue {
  shape: string;
  value: string | number;
}

export const PLANTED: readonly PlantedValue[] = [
  { shape: 'phone in text', value: '9876543210' },
  { shape: 'e-mail in text', value: 'beneficiary@example.com' },
  { shape: 'phone with +91, spaced', value: '+91 84304 54547' },
  { shape: 'e-mail with _ in its local part', value: 'first_last@example.co.in' },
  { shape: 'accountNumber field', value: '7770007428585742' },
  { shape: 'account number with dashes', value: '7770-0074-2858-5742' },
  { shape: 'account number glued to letters', value: 'acct6660006428585743' },
  { shape: 'phone glued to an underscore', value: 'ph_7012345678' },
  { shape: 'phone as a JSON number', value: 9123456780 },
  { shape: 'account number as a JSON number', value: 5550005428585744 },
  { shape: 'phone with a dash, nested', value: '98765-43210' },
  { shape: 'e-mail, nested', value: 'ben.f@example.com' },
  { shape: 'account number spaced, nested in an array', value: '4440 0034 2858 5745' },
  { shape: 'phone with 0, in an unknown field', value: '0 70123 45679' },
];

const planted = (shape: string) => {
  const found = PLANTED.find((value) => value.shape === shape);
  if (!found) throw new Error(`nothing planted as ${shape}`);
  return found.value;
};

/** Activity entries carrying every {@link PLANTED} value (each entry has the `status` InstantPay always sends). */
export const PERSONAL_ACTIVITY: ReadonlyArray<Record<string, unknown>> = [
  {
    status: `Payout link notification sent to ${planted('phone in text')} and ${planted('e-mail in text')}`,
  },
  {
    status: `Payout link notification sent to ${planted('phone with +91, spaced')} and ${planted('e-mail with _ in its local part')}`,
  },
  {
    status: 'Beneficiary added',
    accountType: 'ACCOUNT',
    accountNumber: planted('accountNumber field'),
    accountIfsc: 'YESB0CMSNOC',
  },
  {
    status: `Beneficiary account ${planted('account number with dashes')} verified for ${planted('account number glued to letters')}, ${planted('phone glued to an underscore')}`,
  },
  {
    status: 'Beneficiary details updated',
    beneficiaryMobile: planted('phone as a JSON number'),
    beneficiaryAccount: planted('account number as a JSON number'),
    beneficiary: {
      contact: { mobile: planted('phone with a dash, nested'), email: planted('e-mail, nested') },
      accounts: [planted('account number spaced, nested in an array')],
    },
    remark: `alternate ${planted('phone with 0, in an unknown field')}`,
  },
];

/** The digits (or the address) of a planted value, as a finding of the scan names them. */
export function plantedCore(value: string | number): string {
  if (typeof value === 'number') return String(value);
  if (value.includes('@')) return value;
  return value.replace(/\D/g, '').replace(/^(?:91|0)(?=[6-9]\d{9}$)/, '');
}
