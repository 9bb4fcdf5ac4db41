import { isIP } from 'node:net';
import { blockedLiteral, isPublicAddress } from '../src/modules/webhooks/ssrf-guard';

// Every entry of IANA's IPv4 and IPv6 special-purpose address registries, plus the IPv6 space IANA
// has not allocated for global unicast (all but 2000::/3), each probed at its first address, one
// inside and its last: none may receive a webhook. The registries:
// https://www.iana.org/assignments/iana-ipv4-special-registry and .../iana-ipv6-special-registry
const SPECIAL: [range: string, probes: string[]][] = [
  ['0.0.0.0/8 this network', ['0.0.0.0', '0.1.2.3', '0.255.255.255']],
  ['10.0.0.0/8 private', ['10.0.0.0', '10.1.2.3', '10.255.255.255']],
  ['100.64.0.0/10 carrier-grade NAT', ['100.64.0.0', '100.100.100.200', '100.127.255.255']],
  ['127.0.0.0/8 loopback', ['127.0.0.1', '127.1.2.3', '127.255.255.255']],
  ['169.254.0.0/16 link-local (cloud metadata)', ['169.254.0.0', '169.254.169.254', '169.254.255.255']],
  ['172.16.0.0/12 private', ['172.16.0.0', '172.20.1.1', '172.31.255.255']],
  ['192.0.0.0/24 IETF protocol assignments', ['192.0.0.0', '192.0.0.9', '192.0.0.170', '192.0.0.255']],
  ['192.0.2.0/24 documentation', ['192.0.2.0', '192.0.2.1', '192.0.2.255']],
  ['192.88.99.0/24 6to4 relay anycast', ['192.88.99.0', '192.88.99.1', '192.88.99.255']],
  ['192.168.0.0/16 private', ['192.168.0.0', '192.168.1.1', '192.168.255.255']],
  ['198.18.0.0/15 benchmarking', ['198.18.0.0', '198.19.1.1', '198.19.255.255']],
  ['198.51.100.0/24 documentation', ['198.51.100.0', '198.51.100.7', '198.51.100.255']],
  ['203.0.113.0/24 documentation', ['203.0.113.0', '203.0.113.7', '203.0.113.255']],
  ['224.0.0.0/4 multicast', ['224.0.0.0', '239.1.2.3', '239.255.255.255']],
  ['240.0.0.0/4 reserved', ['240.0.0.0', '250.1.2.3', '255.255.255.254']],
  ['255.255.255.255/32 broadcast', ['255.255.255.255']],
  ['::/128 unspecified', ['::']],
  ['::1/128 loopback', ['::1']],
  ['::/96 IPv4-compatible (deprecated)', ['::7f00:1', '::127.0.0.1', '::a00:1', '::10.0.0.1', '::a9fe:a9fe', '::808:808', '::8.8.8.8', '::ffff']],
  [
    '::ffff:0:0/96 IPv4-mapped, carrying a special IPv4',
    ['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:0.0.0.0', '::ffff:ffff:ffff'],
  ],
  ['::ffff:0:0:0/96 IPv4-translated', ['::ffff:0:7f00:1', '::ffff:0:808:808']],
  ['0000::/8 rest of the IETF-reserved block', ['::1:0:0:1', '0:0:0:1::1', '::1:0:0:0:1', 'ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['64:ff9b::/96 NAT64', ['64:ff9b::', '64:ff9b::7f00:1', '64:ff9b::808:808', '64:ff9b::ffff:ffff']],
  ['64:ff9b:1::/48 local NAT64', ['64:ff9b:1::', '64:ff9b:1::a00:1', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff']],
  ['100::/64 discard-only', ['100::', '100::1', '100::ffff:ffff:ffff:ffff']],
  ['100::/8 unallocated beyond it', ['100:0:0:1::1', '1ff::1']],
  [
    '2001::/23 IETF protocol assignments',
    ['2001::', '2001::1', '2001:1::1', '2001:2::1', '2001:3::1', '2001:4:112::1', '2001:10::1', '2001:20::1', '2001:1ff:ffff::1'],
  ],
  ['2001:db8::/32 documentation', ['2001:db8::', '2001:db8::1', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['2002::/16 6to4', ['2002::', '2002:7f00:1::1', '2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['3fff::/20 documentation', ['3fff::', '3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['5f00::/16 segment routing', ['5f00::', '5f00::1']],
  ['4000::/2 and 8000::/1 unallocated', ['4000::1', '7fff::1', '8000::1', 'bfff::1', 'e000::1']],
  ['fc00::/7 unique local', ['fc00::', 'fd00::1', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['fe80::/10 link-local', ['fe80::', 'fe80::1', 'fe80::ffff:127.0.0.1', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['fec0::/10 site-local (deprecated)', ['fec0::', 'fec0::1']],
  ['ff00::/8 multicast', ['ff00::', 'ff02::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['not an address', ['', 'localhost', '127.0.0.1.', '1.2.3.4.5', '::g', '2001:db8::1/64']],
];

const PUBLIC = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.215.14',
  '100.63.255.255',
  '100.128.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.167.255.255',
  '192.169.0.0',
  '223.255.255.255',
  '::ffff:8.8.8.8',
  '::ffff:808:808',
  '2001:4860:4860::8888',
  '2606:4700:4700::1111',
  '2001:200::1',
  '2003::1',
  '2a00:1450:4001::1',
  '3ffe::1',
];

describe('the SSRF guard', () => {
  describe.each(SPECIAL)('refuses %s', (_range, probes) => {
    it.each(probes)('%s', (address) => {
      expect(isPublicAddress(address)).toBe(false);
      // As an IP literal of a URL (brackets for IPv6), as registration and sending see it.
      if (isIP(address) === 6) expect(blockedLiteral(new URL(`https://[${address}]/hook`), false)).not.toBeNull();
    });
  });

  it.each(PUBLIC)('accepts the public address %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
    expect(blockedLiteral(new URL(`https://${address.includes(':') ? `[${address}]` : address}/hook`), false)).toBeNull();
  });

  it('lets every address through where private networks are allowed', () => {
    expect(blockedLiteral(new URL('https://[::7f00:1]/'), true)).toBeNull();
  });
});
