import type { LinkActivity } from '#shared/instantpay/schemas.ts';
import { maskAccountNumber, maskText } from '#shared/masking.ts';

/** Fields of an activity entry that carry no personal data and stay as they are. */
const KEPT_AS_IS = new Set(['activityAt', 'orderId', 'accountType', 'accountIfsc']);

/**
 * Masks an activity entry before it is stored, published or logged: the account number to its last
 * four digits, phone numbers and e-mail addresses in any other text.
 */
export function maskActivity(entry: LinkActivity): LinkActivity {
  const masked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (KEPT_AS_IS.has(key)) masked[key] = value;
    else if (key === 'accountNumber' && typeof value === 'string') masked[key] = maskAccountNumber(value);
    else masked[key] = maskDeep(value);
  }
  return masked as LinkActivity;
}

/** Fields InstantPay may add later are masked too, however deeply they nest. */
function maskDeep(value: unknown): unknown {
  if (typeof value === 'string') return maskText(value);
  if (Array.isArray(value)) return value.map(maskDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskDeep(inner)]));
  }
  return value;
}
