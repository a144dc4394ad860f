import type { CapturedLine } from './capture-log.ts';

/** A secret the logs must never contain, with a label to report instead of the value. */
export interface NamedSecret {
  label: string;
  value: string;
}

// Numbers count only standing alone (as the tracker's own masking reads them): digits inside an
// identifier such as InstantPay's `ipay_uuid` (hex and base62) are not personal data.
const PATTERNS: ReadonlyArray<{ label: string; pattern: RegExp }> = [
  // A bank account number as InstantPay sends it (16 digits); masked ones read XXXXXXXXXXXX5742.
  { label: 'unmasked 16-digit account number', pattern: /(?<![\w+])\d{16}(?!\w)/g },
  // An Indian mobile number, optionally with its country code; masked ones read 98XXXXXX10.
  { label: 'unmasked 10-digit phone number', pattern: /(?<![\w+])(?:\+?91[- ]?)?[6-9]\d{9}(?!\w)/g },
  // An e-mail address whose local part is not masked (a masked one reads b***@example.com).
  { label: 'unmasked e-mail address', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g },
];

const UUID = /(?:h000)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:-[A-Za-z0-9]{12})?/gi;

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
 * What must not be in a log: the given secrets (reported by label, never by value), and unmasked
 * account numbers, phone numbers and e-mail addresses (reported with the offending text, which in
 * tests is sandbox data).
 */
export function sensitiveFindings(text: string, secrets: readonly NamedSecret[]): string[] {
  const findings: string[] = [];
  for (const secret of secrets) {
    if (secret.value.length >= 8 && text.includes(secret.value)) findings.push(`contains ${secret.label}`);
  }
  // UUIDs (event ids, request ids, InstantPay's `h000<uuid>-<12 chars>` ipay_uuid) are not personal
  // data, but a group of decimal-only hex digits in one reads like a phone number.
  const withoutIds = text.replace(UUID, '<id>');
  for (const { label, pattern } of PATTERNS) {
    for (const match of withoutIds.matchAll(pattern)) findings.push(`${label}: ${match[0]}`);
  }
  return [...new Set(findings)];
}
