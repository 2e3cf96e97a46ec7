import { BlockList, isIP } from 'node:net';
import { canonicalHost } from '@paddock/core';

/**
 * Ranges the proxy never connects to unless the operator allows them: the
 * host itself, private networks, link-local (cloud metadata at
 * 169.254.169.254 and fd00:ec2::254 included), CGNAT, multicast, and IPv6
 * forms that embed IPv4 addresses.
 */
const refusedV4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'this-network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const refusedV6: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible'],
  ['::ffff:0:0', 96, 'IPv4-mapped'],
  ['::ffff:0:0:0', 96, 'IPv4-translated'],
  ['64:ff9b::', 96, 'NAT64'],
  ['64:ff9b:1::', 48, 'NAT64'],
  ['100::', 64, 'discard'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['2001::', 32, 'Teredo'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

const refusedRanges = [
  ...refusedV4.map(([net, prefix, name]) => rangeList(net, prefix, 'ipv4', name)),
  ...refusedV6.map(([net, prefix, name]) => rangeList(net, prefix, 'ipv6', name)),
];

function rangeList(net: string, prefix: number, family: 'ipv4' | 'ipv6', name: string) {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, name };
}

/** An IPv4-mapped IPv6 address, however spelled (::ffff:a.b.c.d, 0:0:0:0:0:ffff:abcd:ef01 …), as plain IPv4. */
function unmapped(address: string): string {
  return canonicalHost(address.toLowerCase());
}

/** Parses "10.0.0.0/8" or "fd00::/8"; throws on anything else. */
export function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', prefixText] = cidr.split('/');
  const version = isIP(address);
  const prefix = prefixText === undefined ? (version === 4 ? 32 : 128) : Number(prefixText);
  if (!version || !Number.isInteger(prefix) || prefix < 0 || prefix > (version === 4 ? 32 : 128)) {
    throw new Error(`not an address range: ${cidr}`);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Decides which resolved addresses the proxy may connect to. */
export class AddressGuard {
  private readonly allowed = new BlockList();

  /** @param allowedRanges CIDRs the operator opens (e.g. an internal service's subnet). */
  constructor(allowedRanges: string[] = []) {
    for (const cidr of allowedRanges) {
      const { address, prefix, family } = parseCidr(cidr);
      this.allowed.addSubnet(address, prefix, family);
    }
  }

  /** Why the proxy must not connect to this address, or undefined when it may. */
  refusal(rawAddress: string): string | undefined {
    const address = unmapped(rawAddress);
    const family = isIP(address) === 4 ? 'ipv4' : isIP(address) === 6 ? 'ipv6' : undefined;
    if (!family) return `${rawAddress} is not an IP address`;
    if (this.allowed.check(address, family)) return undefined;
    const range = refusedRanges.find((r) => r.family === family && r.list.check(address, family));
    return range && `${rawAddress} is a ${range.name} address`;
  }
}
