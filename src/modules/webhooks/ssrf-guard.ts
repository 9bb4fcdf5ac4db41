import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

// IPv6 outside 2000::/3, the only space IANA allocates for global unicast. ipaddr.js names the
// special ranges but calls the rest of ::/8 "unicast", IPv4-compatible ::/96 included (::7f00:1 is
// 127.0.0.1 to a host that routes it), and reads `::a.b.c.d` as if it were IPv4-mapped. Node parses
// with inet_pton, as the connection will.
const NOT_GLOBAL_V6 = new BlockList();
NOT_GLOBAL_V6.addSubnet('::', 3, 'ipv6');
NOT_GLOBAL_V6.addSubnet('4000::', 2, 'ipv6');
NOT_GLOBAL_V6.addSubnet('8000::', 1, 'ipv6');
const IPV4_MAPPED = new BlockList();
IPV4_MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

/**
 * Only public unicast addresses may receive webhooks: loopback, private, link-local (cloud metadata
 * at 169.254.169.254), unique-local, carrier-grade NAT, multicast, reserved, IPv6 outside global
 * unicast and the like are refused. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  if (isIP(address) === 6 && !IPV4_MAPPED.check(address, 'ipv6') && NOT_GLOBAL_V6.check(address, 'ipv6')) return false;
  return ipaddr.process(address).range() === 'unicast';
}

class BlockedAddressError extends Error {
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a private or reserved address; webhooks go to public addresses only`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `dns.lookup` for outgoing webhook connections that checks the addresses a name resolves to at
 * connect time (a name that pointed elsewhere at registration, or rebinds, is caught here).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const blocked = allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (blocked) return callback(Object.assign(new BlockedAddressError(hostname, blocked.address), { code: 'EBLOCKED' }), []);
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

/** A URL whose host is an IP literal is not looked up at all: it is checked here instead. */
export function blockedLiteral(url: URL, allowPrivate: boolean): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (allowPrivate || !isIP(host)) return null;
  return isPublicAddress(host) ? null : host;
}
