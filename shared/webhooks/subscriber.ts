import { isIP } from 'node:net';
import { DETAIL_TYPES, type DetailType } from '#shared/link/link-event.ts';
import * as z from '#shared/zod.ts';

/** A webhook subscriber, declared per stage: `{name, url, statuses?, detailTypes?, secretName}`. */
export const SubscriberSchema = z.strictObject({
  name: z
    .string()
    .check(z.regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lower-case letters, digits and -, at most 40')),
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

const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

/**
 * Why a subscriber URL is not acceptable, or nothing when it is. Deployed stages take only `https`
 * to a host that is not loopback, private, link-local or a cloud metadata address; the local stage
 * may use loopback (and plain http there). Names are checked as written: a public name that
 * resolves to a private address is the operator's responsibility (documented in SECURITY).
 */
export function subscriberUrlProblems(url: string, options: { allowLoopback: boolean }): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return ['is not a URL'];
  }
  const problems: string[] = [];
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const loopback = isLoopback(host);
  if (parsed.protocol !== 'https:' && !(options.allowLoopback && loopback && parsed.protocol === 'http:')) {
    problems.push('must use https');
  }
  if (parsed.username || parsed.password) problems.push('must not carry credentials');
  if (loopback && !options.allowLoopback) problems.push('must not point at a loopback address');
  else if (!loopback && isPrivateOrReserved(host))
    problems.push('must not point at a private, link-local or metadata address');
  return problems;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6)
    return expandIpv6(host) === '0000:0000:0000:0000:0000:0000:0000:0001' || isMappedV4(host, isLoopback);
  return false;
}

function isPrivateOrReserved(host: string): boolean {
  if (METADATA_HOSTS.has(host) || host.endsWith('.internal') || host.endsWith('.local')) return true;
  if (isIP(host) === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  if (isIP(host) === 6) {
    const full = expandIpv6(host);
    const first = Number.parseInt(full.slice(0, 4), 16);
    return (
      full === '0000:0000:0000:0000:0000:0000:0000:0000' ||
      (first & 0xfe00) === 0xfc00 ||
      (first & 0xffc0) === 0xfe80 ||
      full.startsWith('fd00:0ec2') ||
      isMappedV4(host, isPrivateOrReserved)
    );
  }
  return false;
}

function isMappedV4(host: string, test: (v4: string) => boolean): boolean {
  const full = expandIpv6(host);
  if (!full.startsWith('0000:0000:0000:0000:0000:ffff:')) return false;
  const [hi, lo] = full
    .slice(30)
    .split(':')
    .map((part) => Number.parseInt(part, 16)) as [number, number];
  return test(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
}

/** `::1` -> `0000:...:0001`; also turns a dotted IPv4 tail into hex groups. */
function expandIpv6(host: string): string {
  let text = host;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a, b, c, d] = dotted[1].split('.').map(Number) as [number, number, number, number];
    text = text.replace(dotted[1], `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`);
  }
  const [head = '', tail] = text.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array(tail === undefined ? 0 : missing).fill('0'), ...tailParts];
  return parts.map((part) => part.padStart(4, '0')).join(':');
}
