/**
 * InstantPay's envelope `statuscode`, classified as `../shared/upstream/INSTANTPAY.md` lists them.
 * `TXN` is the only success. A code not listed here is `unknown`: handled as an upstream error,
 * never a crash.
 */
export type StatusCodeClass = 'success' | 'transient' | 'credentials' | 'request' | 'unknown';

const CLASSES: Readonly<Record<Exclude<StatusCodeClass, 'unknown'>, readonly string[]>> = {
  success: ['TXN'],
  // Pending or provider-side: retry later. `TUP` (under process) is pending, never failed.
  transient: ['TUP', 'ISE', 'IPE', 'SPD', 'SPE', 'ERR', 'FAB', 'TSU', 'SNA', 'USM', 'UED', 'IEC'],
  // Configuration problems for an operator: never retried blindly.
  credentials: ['IAC', 'IAT', 'UAD', 'OUI', 'AAB', 'KYC', 'CNL'],
  // The request itself is wrong: for Track Link, the link id is not one InstantPay knows.
  request: ['RPI', 'ITI', 'IRT', 'VCI', 'OUE'],
};

const BY_CODE = new Map<string, StatusCodeClass>(
  Object.entries(CLASSES).flatMap(([cls, codes]) => codes.map((code) => [code, cls as StatusCodeClass])),
);

export function classifyStatusCode(statuscode: string): StatusCodeClass {
  return BY_CODE.get(statuscode) ?? 'unknown';
}

/** Codes that mean the provider is down or under maintenance: worth a `Retry-After` to callers. */
export const DOWNTIME_CODES: ReadonlySet<string> = new Set(['SPD', 'SNA', 'USM']);
