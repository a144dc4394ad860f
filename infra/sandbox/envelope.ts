import { randomBytes, randomUUID } from 'node:crypto';
import { formatIst } from '#shared/instantpay/ist-time.ts';

/** InstantPay's response envelope (INSTANTPAY.md, "Envelope"). */
export interface Envelope {
  statuscode: string;
  actcode: null;
  status: string;
  data: unknown;
  timestamp: string;
  ipay_uuid: string;
  /** The call's transaction id: Create's `data.orderId`, `null` otherwise (as every other sample shows). */
  orderid: string | null;
  environment: 'SANDBOX';
  internalCode: null;
}

/**
 * The published `statuscode` table, text for text (`../shared/upstream/PAYOUT-LINK-ENDPOINTS.md`
 * section 7): InstantPay's page up to `ONV`, then the secondary copies for the entries the stored
 * page cuts off (`RAB` to `CNL`; `VCI` in the copy that spells it right).
 */
const STATUS_TEXTS: Readonly<Record<string, string>> = {
  TXN: 'Transaction Successful',
  TUP: 'Transaction Under Process',
  IRA: 'Invalid Refill Amount',
  RBT: 'Refill Barred Temporarily',
  IAN: 'Invalid Account Number',
  IAB: 'Insufficient Wallet Balance',
  DTX: 'Duplicate Transaction',
  ISE: 'System Error',
  IAT: 'Invalid Access Token',
  SPD: 'Service Provider Downtime',
  SPE: 'Service Provider Error',
  ITI: 'Invalid Transaction ID',
  DTB: 'Denomination Temporarily Barred',
  TSU: 'Transaction Status Unavailable',
  ISP: 'Invalid Service Provider',
  RPI: 'Request Parameters are Invalid or Incomplete',
  AAB: 'Account Blocked, Contact Helpdesk',
  ANF: 'Account not found',
  UED: 'Unknown Error Description, Contact Helpdesk',
  IEC: 'Invalid or Unknown Error Code',
  IRT: 'Invalid Response Type',
  IPE: 'Internal Processing Error',
  IAC: 'Invalid Dealer Credentials',
  UAD: 'User Access Denied',
  TRP: 'Transaction Refund Processed',
  TDE: 'Transaction Dispute Error, Contact Helpdesk',
  DLS: 'Dispute Logged Successfully',
  DID: 'Duplicate Agent Transaction ID',
  OUI: 'Outlet Unauthorized or Inactive',
  ODI: 'Outlet Data Incorrect',
  RNF: 'Remitter Not Found',
  RAR: 'Remitter Already Registered',
  UAR: 'User Already Registered',
  IVC: 'Invalid Verification Code or OTP',
  IUA: 'Invalid User Account - Outlet',
  SNA: 'Service not available',
  ERR: 'Provider Failure',
  FAB: 'Failure at Bank end',
  UFC: 'Fare has been changed',
  OTP: 'OTP Successfully sent',
  EOP: 'OTP Expired',
  OLR: 'OTP limit reached',
  ONV: 'OTP not valid',
  RAB: 'Remitter Blocked',
  VCI: 'Version Compatibility Issue',
  OUE: 'Unknown Method',
  KYC: 'KYC is mandatory to avail this service',
  USM: 'Under Scheduled Maintenance',
  CNL: 'Currently Not Live',
};

/** The published text of a code; a code the table does not list (a fault injected by a test) gets a generic one. */
export function statusTextOf(statuscode: string): string {
  return STATUS_TEXTS[statuscode] ?? 'Unknown error';
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Shaped like the sample's `h0009ad8a2eb-7790-4fe2-a9af-8cdb732d668c-WbrjDVgsp8oy`: `h000`, a UUID, 12 letters or digits. */
function freshIpayUuid(): string {
  const tail = [...randomBytes(12)].map((byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
  return `h000${randomUUID()}-${tail}`;
}

export function envelope(
  statuscode: string,
  status: string,
  data: unknown,
  nowMs: number,
  orderid: string | null = null,
): Envelope {
  return {
    statuscode,
    actcode: null,
    status,
    data,
    timestamp: formatIst(nowMs),
    ipay_uuid: freshIpayUuid(),
    orderid,
    environment: 'SANDBOX',
    internalCode: null,
  };
}
