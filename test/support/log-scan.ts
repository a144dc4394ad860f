import type { CapturedLine } from './capture-log.ts';

/** A secret the logs must never contain, with a label to report instead of the value. */
export interface NamedSecret {
  label: string;
  value: string;
}

/**
 * Renders captured lines as text, following what `JSON.stringify` would drop: an `Error`'s name,
 * message, stack and cause, so a secret carried by an error attribute cannot hide from the scan.
 */
export function renderLines(lines: readonly CapturedLine[]): string {
  const seen = new WeakSet<object>();
  const replacer = (_key: string, value: unknown): unknown => {
    if (value instanceof Error) {
      const { name, message, stack } = value;
      return { ...Object.assign({}, value), name, message, stack, cause: value.cause };
    }
    if (typeof value === 'bigint') return String(value);
    if (value !== null && typeof value === 'object') {
      if (seen.has(value)) return '[circular]';
      seen.add(value);
    }
    return value;
  };
  return lines.map((line) => JSON.stringify(line, replacer)).join('\n');
}

/**
 * What must not be in a log or an event: the given secrets (reported by label, never by value), and
 * unmasked phone numbers, account numbers and e-mail addresses (reported with the offending text,
 * which in tests is sandbox data).
 *
 * Written apart from the tracker's masker (`shared/masking.ts`), on purpose: a scan that reused the
 * masker's patterns could never find what the masker misses. It reads numbers more loosely than any
 * masker would (digits joined by spaces, dashes or parentheses, glued to letters or `_`, JSON numbers)
 * and takes out only what it knows is not personal: date-times, decimals, epoch times, UUIDs and
 * InstantPay's ids. What is left of phone or account length is a finding; masked forms keep too few
 * digits in a row (`84XXXXXX47`, `XXXXXXXXXXXX5742`) to be one.
 */
export function sensitiveFindings(text: string, secrets: readonly NamedSecret[]): string[] {
  const findings: string[] = [];
  for (const secret of secrets) {
    if (secret.value.length >= 8 && text.includes(secret.value)) findings.push(`contains ${secret.label}`);
  }
  const readable = NOT_PERSONAL.reduce((rest, pattern) => rest.replace(pattern, ' '), text);
  for (const match of readable.matchAll(DIGIT_RUN)) {
    const kind = numberKind(match[0].replace(/\D/g, ''));
    if (kind) findings.push(`unmasked ${kind}: ${match[0].trim()}`);
  }
  for (const match of text.matchAll(EMAIL)) {
    const local = match[1]!;
    if (!MASKED_LOCAL_PART.test(local)) findings.push(`unmasked e-mail address: ${local}@${match[2]}`);
  }
  return [...new Set(findings)];
}

/** Text with digits that is known not to be personal data; blanked before numbers are read. */
const NOT_PERSONAL: readonly RegExp[] = [
  // UUIDs: event and request ids, InstantPay's `h000<uuid>-<12 letters or digits>` ipay_uuid.
  /(?:h000)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:-[A-Za-z0-9]{12})?/gi,
  // Date-times and dates: ISO 8601 and InstantPay's `YYYY-MM-DD HH:mm:ss`.
  /\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?/g,
  // InstantPay's order ids: `1`, the time as yyMMddHHmmss, five capitals.
  /(?<![A-Za-z0-9])1\d{12}[A-Z]{5}(?![A-Za-z0-9])/g,
  // Hex identifiers of 16 or more digits (sandbox link ids, hashes), at least one of them a letter.
  /(?<![A-Za-z0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{16,}(?![A-Za-z0-9])/gi,
  // Decimals: amounts, durations.
  /\d+\.\d+/g,
];

/**
 * A number as a person would write it: digits, singly or in groups joined by up to three spaces,
 * dashes or parentheses, optionally after a `+`; letters, `_` or punctuation around it do not matter.
 */
const DIGIT_RUN = /\+?\(?\d(?:[ \u00a0\-()]{0,3}\d)*/g;

const EPOCH_SECONDS = { min: 1e9, max: 2.2e9 };
const EPOCH_MILLISECONDS = { min: 1e12, max: 2.2e12 };

/** What a run of digits reads as, if it is personal: a phone number (Indian, with or without 91 or 0) or an account number. */
function numberKind(digits: string): string | undefined {
  const national = digits.replace(/^(?:91|0)(?=[6-9]\d{9}$)/, '');
  if (/^[6-9]\d{9}$/.test(national)) return 'phone number';
  if (digits.length < 9) return undefined;
  const value = Number(digits);
  const epoch =
    (digits.length === 10 && value >= EPOCH_SECONDS.min && value < EPOCH_SECONDS.max) ||
    (digits.length === 13 && value >= EPOCH_MILLISECONDS.min && value < EPOCH_MILLISECONDS.max);
  return epoch ? undefined : 'account number';
}

/** An address as it appears in text or JSON: the local part stops at quotes, spaces, brackets, `:` and `=`. */
const EMAIL = /([^\s"'<>()[\]{},;:=\\@]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/g;
/** What the tracker publishes instead: one character, then `***`. */
const MASKED_LOCAL_PART = /^.\*\*\*$/u;
