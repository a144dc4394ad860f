/**
 * Masking of personal data (bank account numbers, phone numbers, e-mail addresses) in text that
 * leaves the tracker: events, webhooks, logs and error excerpts.
 *
 *   account number 7770007428585742 -> XXXXXXXXXXXX5742 (last 4 kept)
 *   phone 8430454547                -> 84XXXXXX47       (first 2 and last 2 kept)
 *   e-mail alice@example.com        -> a***@example.com
 */

const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g;
// An Indian mobile number, optionally with its country code: ten digits starting 6-9.
const PHONE = /(?<![\w+])(\+?91[- ]?)?([6-9]\d)(\d{6})(\d{2})(?!\w)/g;
// Any other standalone run of 9 to 18 digits reads as an account number.
const ACCOUNT = /(?<![\w+])\d{9,18}(?!\w)/g;

export function maskAccountNumber(value: string): string {
  const digits = value.replace(/\s+/g, '');
  if (digits.length <= 4) return 'X'.repeat(digits.length);
  return `${'X'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/** Masks every e-mail address, phone number and account number found in free text. */
export function maskText(text: string): string {
  return text
    .replace(EMAIL, (_match, first: string, domain: string) => `${first}***@${domain}`)
    .replace(
      PHONE,
      (_match, prefix: string | undefined, head: string, middle: string, tail: string) =>
        `${prefix ?? ''}${head}${'X'.repeat(middle.length)}${tail}`,
    )
    .replace(ACCOUNT, (digits) => maskAccountNumber(digits));
}
