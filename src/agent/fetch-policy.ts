// Where the agent's fetcher may connect: not to private, loopback, link-local or metadata
// addresses (a task would read what came back) unless the operator allows them by flag.
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Ranges a fetch never reaches unless allowed: the agent's own machine, its networks, the cloud's metadata. */
const REFUSED: [address: string, prefix: number, family: 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network"; 0.0.0.0 reaches the local machine
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT, private in practice
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], // link-local, holds 169.254.169.254 (metadata)
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'], // multicast, reserved, broadcast
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'], // unique local, holds fd00:ec2::254 (metadata)
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

export interface FetchPolicy {
  /** Why `address` (an IP literal) may not be fetched from, or undefined when it may. */
  refusal(address: string): string | undefined;
  /** Whether `url` is the master's own origin, allowed whatever its address (often loopback). */
  isMasterOrigin(url: URL): boolean;
  /** A DNS lookup for node:http that refuses names resolving to a refused address, so the
   * connection goes to the very address that was checked (no second, rebound resolution). */
  lookup: LookupFunction;
}

/** Parses `10.1.0.0/16`, `fd00::/8` or a single address into a BlockList entry; throws on anything else. */
function addCidr(list: BlockList, cidr: string): void {
  const [address = '', prefixText] = cidr.trim().split('/');
  const family = isIP(address);
  const bits = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (family === 0 || !/^\d+$/.test(prefixText ?? `${bits}`) || prefix > bits)
    throw new Error(`'${cidr}' is not an address or CIDR range`);
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
}

/** Checks `--allow-fetch-from` values; the message names the bad one. */
export function checkCidrs(cidrs: string[]): string | undefined {
  for (const cidr of cidrs) {
    try {
      addCidr(new BlockList(), cidr);
    } catch (error) {
      return `--allow-fetch-from: ${(error as Error).message}`;
    }
  }
  return undefined;
}

export function createFetchPolicy(options: {
  /** The master's URL (PACER_MASTER_URL): its origin stays reachable. */
  masterUrl?: string;
  /** Ranges the operator allows although refused by default (`--allow-fetch-from`). */
  allowFrom?: string[];
}): FetchPolicy {
  const refused = new BlockList();
  for (const [address, prefix, family] of REFUSED) refused.addSubnet(address, prefix, family);
  const allowed = new BlockList();
  for (const cidr of options.allowFrom ?? []) addCidr(allowed, cidr);
  const masterOrigin = options.masterUrl ? new URL(options.masterUrl).origin : undefined;

  function refusal(address: string): string | undefined {
    const family = isIP(address);
    if (family === 0) return `'${address}' is not an IP address`;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    // BlockList matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against the IPv4 ranges too.
    if (allowed.check(address, type) || !refused.check(address, type)) return undefined;
    return `${address} is a private, loopback, link-local or metadata address (allow it with --allow-fetch-from)`;
  }

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const bad = addresses.map((a) => refusal(a.address)).find((why) => why !== undefined);
      if (bad) return callback(new Error(`${hostname} resolves to ${bad}`), '', 0);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      if (lookupOptions.all) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };

  return {
    refusal,
    isMasterOrigin: (url) => masterOrigin !== undefined && url.origin === masterOrigin,
    lookup,
  };
}
