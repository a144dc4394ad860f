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
  orderid: null;
  environment: 'SANDBOX';
  internalCode: null;
}

/** Status texts of the codes the sandbox answers with or can be told to inject. */
const STATUS_TEXTS: Readonly<Record<string, string>> = {
  TXN: 'Transaction Successful',
  TUP: 'Transaction Under Process',
  ISE: 'System Error',
  IPE: 'Internal Processing Error',
  SPD: 'Service Provider Downtime',
  SPE: 'Service Provider Error',
  ERR: 'Service Provider Failure',
  FAB: 'Failure At Bank End',
  TSU: 'Transaction Status Unavailable',
  SNA: 'Service Not Available',
  USM: 'Under Scheduled Maintenance',
  UED: 'Unknown Error Description',
  IEC: 'Invalid Error Code',
  IAC: 'Invalid dealer credentials',
  IAT: 'Invalid Access Token',
  UAD: 'User Access Denied',
  OUI: 'Outlet Unauthorized or Inactive',
  AAB: 'Account Blocked',
  KYC: 'KYC Required',
  CNL: 'Currently Not Live',
  RPI: 'Request parameters invalid or incomplete',
  ITI: 'Invalid link id',
  IRT: 'Invalid Response Type',
  VCI: 'Version Compatibility Issue',
  OUE: 'Unknown method',
};

export function statusTextOf(statuscode: string): string {
  return STATUS_TEXTS[statuscode] ?? 'Unknown error';
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Shaped like the sample's `h0009ad8a2eb-7790-4fe2-a9af-8cdb732d668c-WbrjDVgsp8oy`: `h000`, a UUID, 12 letters or digits. */
function freshIpayUuid(): string {
  const tail = [...randomBytes(12)].map((byte) => ALPHANUMERIC[byte % ALPHANUMERIC.length]).join('');
  return `h000${randomUUID()}-${tail}`;
}

export function envelope(statuscode: string, status: string, data: unknown, nowMs: number): Envelope {
  return {
    statuscode,
    actcode: null,
    status,
    data,
    timestamp: formatIst(nowMs),
    ipay_uuid: freshIpayUuid(),
    orderid: null,
    environment: 'SANDBOX',
    internalCode: null,
  };
}
