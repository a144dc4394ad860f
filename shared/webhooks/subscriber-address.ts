import ipaddr from 'ipaddr.js';

/**
 * What an IP address is to the webhook guard: `public` (plain public unicast), `loopback` (allowed
 * in the local stage only) or `special` (everything else: private, link-local, carrier-grade NAT,
 * multicast, broadcast, reserved, documentation, NAT64, 6to4, Teredo, IPv4-mapped or -compatible,
 * site-local, unique-local, unspecified, or not an address at all).
 */
export type AddressClass = 'public' | 'loopback' | 'special';

/** IPv6 global unicast: ipaddr.js calls some addresses outside it `unicast` (`::/96`, `4000::/2`). */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

export function addressClass(address: string): AddressClass {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return 'special';
  }
  const range = parsed.range();
  if (range === 'loopback') return 'loopback';
  if (range !== 'unicast') return 'special';
  if (parsed.kind() === 'ipv6' && !parsed.match(GLOBAL_UNICAST_V6)) return 'special';
  return 'public';
}

/** Whether a delivery may connect to this address: public ones, and loopback where the stage allows it. */
export function addressAllowed(address: string, options: { allowLoopback: boolean }): boolean {
  const kind = addressClass(address);
  return kind === 'public' || (kind === 'loopback' && options.allowLoopback);
}
