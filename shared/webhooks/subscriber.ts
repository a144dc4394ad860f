import { isIP } from 'node:net';
import { DETAIL_TYPES, type DetailType } from '#shared/link/link-event.ts';
import * as z from '#shared/zod.ts';
import { type AddressClass, addressClass } from './subscriber-address.ts';
import { SUBSCRIBER_NAME_PATTERN } from './subscriber-name.ts';

export { SUBSCRIBER_NAME_PATTERN };

/** A webhook subscriber, declared per stage: `{name, url, statuses?, detailTypes?, secretName}`. */
export const SubscriberSchema = z.strictObject({
  name: z.string().check(z.regex(SUBSCRIBER_NAME_PATTERN, 'lower-case letters, digits and -, at most 40')),
  url: z.url(),
  /** Only these link statuses (`detail.status`); all when absent. */
  statuses: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  /** Only these detail-types; all when absent. */
  detailTypes: z.optional(
    z.array(z.enum(DETAIL_TYPES as [DetailType, ...DetailType[]])).check(z.minLength(1)),
  ),
  /** Secrets Manager name of `{current: "whsec_...", previous?, previousValidUntil?}`. */
  secretName: z.string().check(z.minLength(1)),
});
export type Subscriber = z.infer<typeof SubscriberSchema>;

/** Names that never lead to a public receiver, whatever they resolve to. */
const NON_PUBLIC_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);
const NON_PUBLIC_SUFFIXES = ['.internal', '.local', '.localdomain', '.home.arpa', '.lan'];

/** The stage whose receivers may be on loopback (`npm start`); never a deployed one. */
const LOOPBACK_STAGE = 'local';

export function loopbackAllowedIn(stage: string): boolean {
  return stage === LOOPBACK_STAGE;
}

/**
 * Why a subscriber URL is not acceptable, or nothing when it is. Deployed stages take only `https`
 * to a public name or a public unicast address; the local stage may use loopback (and plain http
 * there). A name is checked as written here and again at every delivery, where each address it
 * resolves to must be public (`postWebhook`).
 */
export function subscriberUrlProblems(url: string, options: { allowLoopback: boolean }): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return ['is not a URL'];
  }
  const problems: string[] = [];
  const kind = hostClass(subscriberHost(parsed));
  const loopback = kind === 'loopback';
  if (parsed.protocol !== 'https:' && !(options.allowLoopback && loopback && parsed.protocol === 'http:')) {
    problems.push('must use https');
  }
  if (parsed.username || parsed.password) problems.push('must not carry credentials');
  if (loopback && !options.allowLoopback) problems.push('must not point at a loopback address');
  else if (kind === 'special')
    problems.push(
      'must not point at a private, link-local or metadata address, nor any other non-public one',
    );
  return problems;
}

/** The host of a URL as the guard reads it: no IPv6 brackets, no trailing dots (`localhost.`), lower-case. */
export function subscriberHost(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '')
    .toLowerCase();
}

function hostClass(host: string): AddressClass {
  if (isIP(host)) return addressClass(host);
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  if (
    host === '' ||
    !host.includes('.') ||
    NON_PUBLIC_NAMES.has(host) ||
    NON_PUBLIC_SUFFIXES.some((suffix) => host.endsWith(suffix))
  )
    return 'special';
  return 'public';
}
