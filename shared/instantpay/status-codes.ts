/**
 * InstantPay's envelope `statuscode`, classified. The published table
 * (`../shared/upstream/PAYOUT-LINK-ENDPOINTS.md` section 7) gives `TXN` as the only success, `TUP`
 * as pending, and every other code as a failure with no per-code meaning; the failure classes below
 * are the tracker's reading of each code's text (`../shared/upstream/INSTANTPAY.md`). Every listed
 * code has a class; a code the table does not list is `unknown`: an upstream error, never a crash.
 */
export type StatusCodeClass =
  | 'success'
  | 'pending'
  | 'transient'
  | 'credentials'
  | 'integration'
  | 'not-found'
  | 'failure'
  | 'unknown';

const CLASSES: Readonly<Record<Exclude<StatusCodeClass, 'unknown'>, readonly string[]>> = {
  success: ['TXN'],
  // "Transaction Under Process": pending, never failed.
  pending: ['TUP'],
  // Provider-side or downtime: retry later.
  transient: ['ISE', 'IPE', 'SPD', 'SPE', 'ERR', 'FAB', 'TSU', 'SNA', 'USM', 'UED', 'IEC'],
  // The credentials or the merchant's account: an operator must act, never retried blindly.
  credentials: ['IAC', 'IAT', 'UAD', 'OUI', 'IUA', 'AAB', 'KYC', 'CNL'],
  // Our request or our client is wrong (parameters, response type, version, method): never "not found".
  integration: ['RPI', 'IRT', 'VCI', 'OUE'],
  // "Invalid Transaction ID": on Track Link, InstantPay does not know the id (the docs give no per-call meaning).
  'not-found': ['ITI'],
  // Listed, but about other products (refills, remitters, OTPs, fares...): nothing the tracker can act on.
  failure: [
    'IRA',
    'RBT',
    'IAN',
    'IAB',
    'DTX',
    'DTB',
    'ISP',
    'ANF',
    'TRP',
    'TDE',
    'DLS',
    'DID',
    'ODI',
    'RNF',
    'RAR',
    'UAR',
    'IVC',
    'UFC',
    'OTP',
    'EOP',
    'OLR',
    'ONV',
    'RAB',
  ],
};

const BY_CODE = new Map<string, StatusCodeClass>(
  Object.entries(CLASSES).flatMap(([cls, codes]) => codes.map((code) => [code, cls as StatusCodeClass])),
);

export function classifyStatusCode(statuscode: string): StatusCodeClass {
  return BY_CODE.get(statuscode) ?? 'unknown';
}

/** Codes that mean the provider is down or under maintenance: worth a `Retry-After` to callers. */
export const DOWNTIME_CODES: ReadonlySet<string> = new Set(['SPD', 'SNA', 'USM']);
