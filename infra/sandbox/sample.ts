import { parseIst } from '#shared/instantpay/ist-time.ts';
import type { LinkView, SandboxLinks, TimelineStep } from './links.ts';

/** The credentials of the sample curl in the team kit's `../shared/upstream/track-link-api.txt`. */
export const SAMPLE_CREDENTIALS = {
  clientId: 'YWY3OTAzYzNlM2ExZTJlOfh549Gzt+5IEcETrD5Yx+Q=',
  clientSecret: '679db35f926b8d0240a8c0d28729528ee8e6d5effa5fa0b20c04454004d2d825',
} as const;

/** The `X-Ipay-Endpoint-Ip` the sample curl sends. */
export const SAMPLE_ENDPOINT_IP = '125.0.0.1';

export const SAMPLE_LINK_ID = '65704add83911e52b70ebcbc';

/**
 * The e-mail address as the page publishes it: obfuscated to `[email protected]`, with a no-break space
 * (U+00A0) between the two words.
 */
const PAGE_EMAIL = '[email\u00a0protected]';

/** The `data` of the page's sample response, byte for byte. */
export const SAMPLE_TRACK_DATA: Readonly<LinkView> = Object.freeze({
  status: 'CLAIMED',
  amount: 120.11,
  linkActivity: [
    { status: 'Payout link created', activityAt: '2023-12-12 14:51:25' },
    {
      status: `Payout link notification sent to 8430454547 and ${PAGE_EMAIL}`,
      activityAt: '2023-12-12 14:51:26',
    },
    {
      status: 'Beneficiary verification successful',
      activityAt: '2023-12-12 14:51:31',
      orderId: '1231212092131KTMDF',
      accountType: 'ACCOUNT',
      accountNumber: '7770007428585742',
      accountIfsc: 'YESB0CMSNOC',
    },
    {
      status: 'Link Claimed successfully',
      activityAt: '2023-12-12 14:51:31',
      orderId: '1231212092131FDBUT',
      accountType: 'ACCOUNT',
      accountNumber: '7770007428585742',
      accountIfsc: 'YESB0CMSNOC',
    },
  ],
});

const SAMPLE_CREATED_AT = parseIst('2023-12-12 14:51:25') as number;

/** The sample's history as a timeline: issued and notified, verified and claimed six seconds later. */
const SAMPLE_TIMELINE: TimelineStep[] = [
  { afterMs: 0, status: 'ISSUED', activity: SAMPLE_TRACK_DATA.linkActivity.slice(0, 2) },
  { afterMs: 6_000, status: 'PROCESSING', activity: SAMPLE_TRACK_DATA.linkActivity.slice(2, 3) },
  { afterMs: 6_000, status: 'CLAIMED', activity: SAMPLE_TRACK_DATA.linkActivity.slice(3, 4) },
];

/** Preloads the sample link: permanent (survives reset) and frozen (claimed whatever the clock says). */
export function preloadSampleLink(links: SandboxLinks): void {
  if (links.has(SAMPLE_LINK_ID)) return;
  links.createScripted(
    { linkId: SAMPLE_LINK_ID, amount: SAMPLE_TRACK_DATA.amount, timeline: SAMPLE_TIMELINE },
    {
      permanent: true,
      frozen: true,
      createdAt: SAMPLE_CREATED_AT,
      contact: { mobile: '8430454547', email: PAGE_EMAIL },
      orderId: '1231212092125SMPLE',
    },
  );
}
