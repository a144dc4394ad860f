import type { LinkActivity, LinkObservation } from '#shared/link/link-observation.ts';
import { type LinkState, newLinkState } from '#shared/link/link-state.ts';

/** The documented sample link of `upstream/track-link-api.txt`. */
export const LINK_ID = '65704add83911e52b70ebcbc';

/** 2023-12-14 16:42:49 IST, the sample response's timestamp. */
export const T0 = Date.UTC(2023, 11, 14, 11, 12, 49);

/** The sample's activity, already masked as the tracker stores it. */
export const SAMPLE_ACTIVITY: LinkActivity[] = [
  { status: 'Payout link created', activityAt: '2023-12-12 14:51:25' },
  {
    status: 'Payout link notification sent to 84XXXXXX47 and a***@example.com',
    activityAt: '2023-12-12 14:51:26',
  },
  {
    status: 'Beneficiary verification successful',
    activityAt: '2023-12-12 14:51:31',
    orderId: '1231212092131KTMDF',
    accountType: 'ACCOUNT',
    accountNumber: 'XXXXXXXXXXXX5742',
    accountIfsc: 'YESB0CMSNOC',
  },
  {
    status: 'Link Claimed successfully',
    activityAt: '2023-12-12 14:51:31',
    orderId: '1231212092131FDBUT',
    accountType: 'ACCOUNT',
    accountNumber: 'XXXXXXXXXXXX5742',
    accountIfsc: 'YESB0CMSNOC',
  },
];

export function observation(overrides: Partial<LinkObservation> = {}): LinkObservation {
  return {
    linkId: LINK_ID,
    status: 'ISSUED',
    amount: 120.11,
    activity: SAMPLE_ACTIVITY.slice(0, 2),
    statuscode: 'TXN',
    ipayUuid: 'h0009ad8a2eb-7790-4fe2-a9af-8cdb732d668c-WbrjDVgsp8oy',
    timestamp: '2023-12-14 16:42:49',
    environment: 'PRODUCTION',
    startedAt: T0,
    observedAt: T0 + 250,
    ...overrides,
  };
}

/** A link already observed once as `ISSUED` with the first two sample entries. */
export function storedState(overrides: Partial<LinkState> = {}): LinkState {
  return {
    ...newLinkState(LINK_ID, T0 - 60_000),
    status: 'ISSUED',
    amount: 120.11,
    activity: SAMPLE_ACTIVITY.slice(0, 2),
    sequence: 1,
    version: 1,
    firstSeenAt: T0 - 60_000,
    lastObservedAt: T0 - 59_750,
    lastCheckedAt: T0 - 59_750,
    lastChangedAt: T0 - 60_000,
    checks: 1,
    upstream: { statuscode: 'TXN', ipayUuid: 'earlier', environment: 'PRODUCTION', timestamp: null },
    ...overrides,
  };
}
