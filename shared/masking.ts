/**
 * Masking of personal data (bank account numbers, phone numbers, e-mail addresses) in text that
 * leaves the tracker: events, webhooks, logs and error excerpts.
 *
 *   account number 7770007428585742 -> XXXXXXXXXXXX5742 (last 4 kept)
 *   phone 8430454547                -> 84XXXXXX47       (first 2 and last 2 kept)
 *   e-mail alice@example.com        -> a***@example.com
 *
 * Numbers are read as people write them: digits in groups joined by spaces, dashes or parentheses
 * (`+91 84304 54547`, `7770-0074-2858-5742`), and glued to letters, `_` or punctuation
 * (`acct7770007428585742`, `ph_8430454547`); the masked form drops the separators. What holds digits
 * without being personal is left as it is: date-times, decimals (amounts), UUIDs and InstantPay's
 * order ids.
 */

// Starts only where a local part can start: without the look-behind, every position of a long run of
// local-part characters starts a new scan to its end (quadratic: 100 KB of digits took 40 s).
const EMAIL = /(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g;

/** Spans with digits that are not personal data: kept whole, and never joined to a number beside them. */
const NOT_PERSONAL = new RegExp(
  [
    // ISO 8601 and InstantPay's `YYYY-MM-DD HH:mm:ss`, day-first dates, times of day; never a part
    // of a longer number (`8420-2012-11-2345` is an account number).
    /(?<![\d.-])(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\d-])/,
    /(?<![\d.-])(?:0?[1-9]|[12]\d|3[01])(?<dateSeparator>[-/.])(?:0?[1-9]|1[0-2])\k<dateSeparator>(?:19|20)\d{2}(?![\d.-])/,
    /(?<![\d.:-])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?![\d:])/,
    // A UUID, or InstantPay's `h000<uuid>-<12 letters or digits>` ipay_uuid.
    /(?:h000)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?:-[A-Za-z0-9]{12})?/,
    // InstantPay's order id: `1`, the time as yyMMddHHmmss, five capitals.
    /(?<![A-Za-z0-9])1\d{12}[A-Z]{5}(?![A-Za-z0-9])/,
    // An amount: a decimal with one or two places (`8430.45.4547` is a phone number).
    /(?<![\d.])\d+\.\d{1,2}(?!\.?\d)/,
  ]
    .map((pattern) => pattern.source)
    .join('|'),
  'g',
);

/**
 * Digits, alone or in groups joined by up to three of space, no-break space, dash, dot or
 * parentheses (`84304 - 54547`), after an optional `+`.
 */
const NUMBER = /(?<!\d)\+?\d(?:[ \u00a0().-]{0,3}\d)*/g;
/** An Indian mobile number: ten digits starting 6 to 9. */
const MOBILE = /^[6-9]\d{9}$/;

export function maskAccountNumber(value: string): string {
  const digits = value.replace(/[\s-]+/g, '');
  if (digits.length <= 4) return 'X'.repeat(digits.length);
  return `${'X'.repeat(digits.length - 4)}${digits.slice(-4)}`;
}

/** Masks every e-mail address, phone number and account number found in free text. */
export function maskText(text: string): string {
  const masked = text.replace(EMAIL, (_match, first: string, domain: string) => `${first}***@${domain}`);
  let out = '';
  let from = 0;
  for (const kept of masked.matchAll(NOT_PERSONAL)) {
    out += maskNumbers(masked.slice(from, kept.index)) + kept[0];
    from = kept.index + kept[0].length;
  }
  return out + maskNumbers(masked.slice(from));
}

/**
 * A number that is personal, as its masked string; anything else as it is. Phone and account numbers
 * come as JSON numbers too (`"mobile": 8430454547`); amounts and counts stay numbers.
 */
export function maskNumber(value: number): number | string {
  if (!Number.isInteger(value)) return value;
  const digits = BigInt(value).toString();
  const masked = maskText(digits);
  return masked === digits ? value : masked;
}

function maskNumbers(text: string): string {
  return text.replace(NUMBER, maskNumberAsWritten);
}

/** One number as written (`+91 84304 54547`), masked to the contract form, or as it is when too short to be personal. */
function maskNumberAsWritten(written: string): string {
  const digits = written.replace(/\D/g, '');
  const national = nationalMobile(written, digits);
  if (national !== undefined) {
    const prefix = written.slice(0, nthDigitIndex(written, digits.length - 10));
    return `${prefix}${national.slice(0, 2)}${'X'.repeat(6)}${national.slice(-2)}`;
  }
  if (digits.length < 9) return written;
  return `${written.startsWith('+') ? '+' : ''}${maskAccountNumber(digits)}`;
}

/**
 * The ten digits of a mobile number: alone, or after the country code 91 when the code is marked as
 * one (`+91`, or `91` and a separator). A bare `918430454547` may as well be an account number, and is
 * masked as one (which shows less).
 */
function nationalMobile(written: string, digits: string): string | undefined {
  if (MOBILE.test(digits)) return digits;
  if (digits.length !== 12 || !digits.startsWith('91') || !MOBILE.test(digits.slice(2))) return undefined;
  const marked =
    written.startsWith('+') || /^[ \u00a0().-]/.test(written.slice(nthDigitIndex(written, 1) + 1));
  return marked ? digits.slice(2) : undefined;
}

/** Where the digit of index `n` (0-based) is in `written`. */
function nthDigitIndex(written: string, n: number): number {
  let seen = -1;
  for (let index = 0; index < written.length; index++) {
    if (/\d/.test(written[index]!) && ++seen === n) return index;
  }
  return written.length;
}
