import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { postWebhook } from '#shared/webhooks/delivery.ts';
import { subscriberUrlProblems } from '#shared/webhooks/subscriber.ts';
import { addressAllowed, addressClass } from '#shared/webhooks/subscriber-address.ts';

/**
 * The special-purpose ranges, written here from the IANA registries (not from the code's library),
 * so the guard is checked against a source of truth of its own.
 */
const SPECIAL_V4: ReadonlyArray<[cidr: string, what: string]> = [
  ['0.0.0.0/8', 'this network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata)'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.31.196.0/24', 'AS112'],
  ['192.52.193.0/24', 'AMT'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private'],
  ['192.175.48.0/24', 'AS112'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved, broadcast'],
];
const SPECIAL_V6: ReadonlyArray<[cidr: string, what: string]> = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'IPv4-compatible'],
  ['::ffff:0:0/96', 'IPv4-mapped'],
  ['64:ff9b::/96', 'NAT64'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['100::/64', 'discard'],
  ['::/3', 'outside global unicast'],
  ['2001::/23', 'IETF protocol assignments (Teredo, ORCHID, ...)'],
  ['2001:db8::/32', 'documentation'],
  ['2002::/16', '6to4'],
  ['2620:4f:8000::/48', 'AS112'],
  ['3fff::/20', 'documentation'],
  ['4000::/2', 'outside global unicast'],
  ['5f00::/16', 'segment routing'],
  ['8000::/1', 'outside global unicast'],
  ['fc00::/7', 'unique local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
];

interface Range {
  cidr: string;
  what: string;
  bits: 32 | 128;
  network: bigint;
  prefix: number;
}

function v4ToBig(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}
function v6ToBig(text: string): bigint {
  const [head = '', tail = ''] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = text.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}
function range([cidr, what]: [string, string], bits: 32 | 128): Range {
  const [address = '', prefix = ''] = cidr.split('/');
  return {
    cidr,
    what,
    bits,
    network: bits === 32 ? v4ToBig(address) : v6ToBig(address),
    prefix: Number(prefix),
  };
}
const V4 = SPECIAL_V4.map((entry) => range(entry, 32));
const V6 = SPECIAL_V6.map((entry) => range(entry, 128));

function inRange(value: bigint, r: Range): boolean {
  const shift = BigInt(r.bits - r.prefix);
  return value >> shift === r.network >> shift;
}
function v4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
}
function v6Text(value: bigint): string {
  return Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(
    ':',
  );
}

const bigBits = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
/** An address inside one of the ranges: its network with random host bits. */
const within = (ranges: Range[]) =>
  fc.constantFrom(...ranges).chain((r) =>
    bigBits(r.bits - r.prefix).map((host) => ({
      r,
      value: r.network | host,
      text: r.bits === 32 ? v4Text(r.network | host) : v6Text(r.network | host),
    })),
  );
const publicV4 = bigBits(32)
  .filter((value) => !V4.some((r) => inRange(value, r)))
  .map(v4Text);
const publicV6 = bigBits(125)
  .map((host) => (1n << 125n) | host)
  .filter((value) => !V6.some((r) => inRange(value, r)))
  .map(v6Text);

describe('the subscriber address guard', () => {
  it('refuses every address of every special IPv4 range, as an address and as a URL, in any stage', () => {
    fc.assert(
      fc.property(within(V4), ({ r, text, value }) => {
        const loopback = r.cidr === '127.0.0.0/8';
        expect(addressClass(text), `${text} (${r.what})`).toBe(loopback ? 'loopback' : 'special');
        expect(addressAllowed(text, { allowLoopback: false })).toBe(false);
        expect(addressAllowed(text, { allowLoopback: true })).toBe(loopback);
        expect(subscriberUrlProblems(`https://${text}/hook`, { allowLoopback: false })).not.toEqual([]);
        // The same address IPv4-mapped, and IPv4-compatible (`::0.0.0.1` is `::1`, loopback indeed), in IPv6 form.
        for (const wrapped of [`::ffff:${text}`, ...(value > 1n ? [`::${text}`] : [])]) {
          expect(addressAllowed(wrapped, { allowLoopback: true }), wrapped).toBe(false);
          expect(subscriberUrlProblems(`https://[${wrapped}]/`, { allowLoopback: true })).not.toEqual([]);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses every address of every special IPv6 range, as an address and as a URL', () => {
    fc.assert(
      fc.property(within(V6), ({ r, text, value }) => {
        const loopback = value === 1n;
        expect(addressClass(text), `${text} (${r.what})`).toBe(loopback ? 'loopback' : 'special');
        expect(addressAllowed(text, { allowLoopback: false })).toBe(false);
        expect(subscriberUrlProblems(`https://[${text}]/hook`, { allowLoopback: false })).not.toEqual([]);
        if (!loopback) {
          expect(addressAllowed(text, { allowLoopback: true })).toBe(false);
          expect(subscriberUrlProblems(`https://[${text}]/hook`, { allowLoopback: true })).not.toEqual([]);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('accepts public unicast addresses, IPv4 and IPv6, as addresses and as https URLs', () => {
    fc.assert(
      fc.property(fc.oneof(publicV4, publicV6), (text) => {
        expect(addressClass(text), text).toBe('public');
        expect(addressAllowed(text, { allowLoopback: false })).toBe(true);
        const host = text.includes(':') ? `[${text}]` : text;
        expect(subscriberUrlProblems(`https://${host}/hook`, { allowLoopback: false })).toEqual([]);
      }),
      { numRuns: 2_000 },
    );
  });

  it('counts what is not an IP address at all as special, in any stage', () => {
    for (const text of ['', 'hooks.example.com', '256.1.1.1', '::g', '1.2.3.4/8']) {
      expect(addressClass(text), text).toBe('special');
      expect(addressAllowed(text, { allowLoopback: true })).toBe(false);
    }
  });

  it('refuses a name at delivery when any one of its addresses is special, without connecting or naming it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(publicV4, publicV6), { maxLength: 3 }),
        within([...V4, ...V6]),
        fc.nat(),
        async (publics, special, at) => {
          const addresses = [...publics];
          addresses.splice(at % (publics.length + 1), 0, special.text);
          const result = await postWebhook({
            url: 'https://hooks.example.com/payout',
            id: 'evt',
            body: '{}',
            secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
            timestampSeconds: 1,
            allowLoopback: false,
            resolve: async () =>
              addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
          });
          expect(result).toMatchObject({ error: 'refused-address' });
          expect(result.status).toBeUndefined();
          expect(result.refusal).toBe('the subscriber URL resolves to a non-public address');
          expect(JSON.stringify(result)).not.toContain(special.text);
        },
      ),
      { numRuns: 300 },
    );
  });
});
