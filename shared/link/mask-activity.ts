import { maskAccountNumber, maskNumber, maskText } from '#shared/masking.ts';
import type { LinkActivity } from './link-observation.ts';

/** Fields of an activity entry that carry no personal data and stay as they are. */
const KEPT_AS_IS = new Set(['activityAt', 'orderId', 'accountType', 'accountIfsc']);

/** Number fields named for an amount or a time (`amount`, `notifiedAt`, `retryTime`) hold no personal data. */
const NOT_PERSONAL_NUMBER = /[Aa]mount|(?:At|Time|[Tt]imestamp)$/;

/**
 * Masks an activity entry before it is stored, published or logged: the account number to its last
 * four digits, phone numbers, account numbers and e-mail addresses in any other field, text or number.
 */
export function maskActivity(entry: LinkActivity): LinkActivity {
  const masked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (KEPT_AS_IS.has(key)) masked[key] = value;
    else if (key === 'accountNumber' && (typeof value === 'string' || typeof value === 'number'))
      masked[key] = maskAccountNumber(typeof value === 'number' ? digitsOf(value) : value);
    else masked[key] = maskDeep(value, key);
  }
  return masked as LinkActivity;
}

/** Fields InstantPay may add later are masked too, however deeply they nest. */
function maskDeep(value: unknown, key: string): unknown {
  if (typeof value === 'string') return maskText(value);
  if (typeof value === 'number') return NOT_PERSONAL_NUMBER.test(key) ? value : maskNumber(value);
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, key));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([inner, item]) => [inner, maskDeep(item, inner)]));
  }
  return value;
}

/** A number's digits as written, without an exponent however large it is. */
function digitsOf(value: number): string {
  return Number.isInteger(value) ? BigInt(value).toString() : String(value);
}
