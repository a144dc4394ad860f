/**
 * What InstantPay's pages publish, transcribed for the tests from the team kit's
 * `../shared/upstream/PAYOUT-LINK-ENDPOINTS.md` (each fact with its source tag there). The tests
 * hold the code to this copy; the code never imports it.
 */

/** The page's own class: `success` and `pending` are its words; every other code is a `failure`. */
export type PublishedClass = 'success' | 'pending' | 'failure';

export interface PublishedStatusCode {
  code: string;
  /** The text as published ([S-codes]), or as the secondary copies give it ([X-codes]). */
  text: string;
  class: PublishedClass;
  /** `S-codes`: InstantPay's page; `X-codes`: only the third-party copies (the page is cut there). */
  source: 'S-codes' | 'X-codes';
}

const S = (code: string, text: string, cls: PublishedClass = 'failure'): PublishedStatusCode => ({
  code,
  text,
  class: cls,
  source: 'S-codes',
});
const X = (code: string, text: string): PublishedStatusCode => ({
  code,
  text,
  class: 'failure',
  source: 'X-codes',
});

/** Section 7, in the page's order. */
export const PUBLISHED_STATUS_CODES: readonly PublishedStatusCode[] = [
  S('TXN', 'Transaction Successful', 'success'),
  S('TUP', 'Transaction Under Process', 'pending'),
  S('IRA', 'Invalid Refill Amount'),
  S('RBT', 'Refill Barred Temporarily'),
  S('IAN', 'Invalid Account Number'),
  S('IAB', 'Insufficient Wallet Balance'),
  S('DTX', 'Duplicate Transaction'),
  S('ISE', 'System Error'),
  S('IAT', 'Invalid Access Token'),
  S('SPD', 'Service Provider Downtime'),
  S('SPE', 'Service Provider Error'),
  S('ITI', 'Invalid Transaction ID'),
  S('DTB', 'Denomination Temporarily Barred'),
  S('TSU', 'Transaction Status Unavailable'),
  S('ISP', 'Invalid Service Provider'),
  S('RPI', 'Request Parameters are Invalid or Incomplete'),
  S('AAB', 'Account Blocked, Contact Helpdesk'),
  S('ANF', 'Account not found'),
  S('UED', 'Unknown Error Description, Contact Helpdesk'),
  S('IEC', 'Invalid or Unknown Error Code'),
  S('IRT', 'Invalid Response Type'),
  S('IPE', 'Internal Processing Error'),
  S('IAC', 'Invalid Dealer Credentials'),
  S('UAD', 'User Access Denied'),
  S('TRP', 'Transaction Refund Processed'),
  S('TDE', 'Transaction Dispute Error, Contact Helpdesk'),
  S('DLS', 'Dispute Logged Successfully'),
  S('DID', 'Duplicate Agent Transaction ID'),
  S('OUI', 'Outlet Unauthorized or Inactive'),
  S('ODI', 'Outlet Data Incorrect'),
  S('RNF', 'Remitter Not Found'),
  S('RAR', 'Remitter Already Registered'),
  S('UAR', 'User Already Registered'),
  S('IVC', 'Invalid Verification Code or OTP'),
  S('IUA', 'Invalid User Account - Outlet'),
  S('SNA', 'Service not available'),
  S('ERR', 'Provider Failure'),
  S('FAB', 'Failure at Bank end'),
  S('UFC', 'Fare has been changed'),
  S('OTP', 'OTP Successfully sent'),
  S('EOP', 'OTP Expired'),
  S('OLR', 'OTP limit reached'),
  S('ONV', 'OTP not valid'),
  // The stored page is cut inside this entry ("Remitter Bloc..."); the secondary copies complete it.
  X('RAB', 'Remitter Blocked'),
  // One secondary copy misspells it ("Version Compatablity Iussue"); the other is taken.
  X('VCI', 'Version Compatibility Issue'),
  X('OUE', 'Unknown Method'),
  X('KYC', 'KYC is mandatory to avail this service'),
  X('USM', 'Under Scheduled Maintenance'),
  X('CNL', 'Currently Not Live'),
];

/** The envelope keys, in the order of the "Response Parameters" table ([S-track][S-cancel][S-notify]). */
export const ENVELOPE_KEYS = [
  'statuscode',
  'actcode',
  'status',
  'data',
  'timestamp',
  'ipay_uuid',
  'orderid',
  'environment',
  'internalCode',
] as const;

/** Section 4.2: the List sample request body, as published (older crawl). */
export const LIST_SAMPLE_BODY = {
  filters: {
    status: ['ISSUED'],
    contact: 'Contact Name /Contact Mobile / Contact Email',
    linkId: '657aa9841b8d3897ff0a84fb',
  },
  pagination: { pageNumber: '1', recordsPerPage: '10' },
};

/** Section 4.3 (secondary, X-payouts): the keys of `data.meta` and of each of `data.records[]`. */
export const LIST_META_KEYS = [
  'totalPages',
  'currentPage',
  'totalRecords',
  'recordsOnCurrentPage',
  'recordFrom',
  'recordTo',
] as const;
export const LIST_RECORD_KEYS = [
  'amount',
  'purpose',
  'description',
  'status',
  'linkId',
  'contactDetails',
  'referenceNo',
  'orderId',
  'url',
  'qrUrl',
  'paymentModes',
  'verifyBene',
  'activatedAt',
  'expiredAt',
] as const;

/** Section 5: the Cancel sample request body. */
export const CANCEL_SAMPLE_BODY = { linkId: '657a99b961f05879ae06cb56' };
/** Section 6: the Notify sample request body. */
export const NOTIFY_SAMPLE_BODY = { linkId: '657aa9841b8d3897ff0a84fb' };

/** Section 2.3 (secondary, X-payouts): the keys of a Create answer's `data`. */
export const CREATE_DATA_KEYS = [
  'linkId',
  'url',
  'status',
  'contactDetails',
  'amount',
  'purpose',
  'description',
  'referenceNo',
  'verifyBene',
  'paymentModes',
  'orderId',
  'activatedAt',
  'expiredAt',
] as const;

/** Section 2.1: `purpose`'s six values (the page's spelling, `Comission` included) and the four payment modes. */
export const CREATE_PURPOSES = [
  'Refund',
  'Cashback',
  'Comission',
  'Incentive',
  'Payout',
  'Greeting',
] as const;
export const CREATE_PAYMENT_MODES = ['ACCOUNT', 'VPA', 'AMAZON', 'CREDITCARD'] as const;

/**
 * A Create request built from the request table (section 2.1): every mandatory field, `amount` a
 * string, date-times `YYYY-MM-DD HH:mm:ss` IST as the secondary sample writes them. The page's own
 * sample body is cut off in every stored copy.
 */
export function createRequestFromTable(activatedAt: string, expiredAt: string): Record<string, unknown> {
  return {
    contactDetails: { name: 'Ravi Kumar', mobile: '9811122233', email: 'ravi@example.com' },
    verifyBene: true,
    amount: '120.11',
    purpose: 'Refund',
    description: 'Refund for order 42',
    referenceNo: 'INV-42',
    activatedAt,
    expiredAt,
    paymentModes: ['ACCOUNT', 'VPA'],
    sendAlert: true,
  };
}
