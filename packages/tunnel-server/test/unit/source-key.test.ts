/**
 * The keys per-source limits count by: an address (IPv6 per /64) and its
 * network (IPv4 /24, IPv6 /56); anything else one overflow bucket.
 */
import { networkKey, OVERFLOW_SOURCE, sourceKey } from '../../src/http/source-key';

describe('sourceKey', () => {
  it('keeps IPv4 addresses, IPv4-mapped IPv6 included, and groups IPv6 addresses by /64', () => {
    expect(sourceKey('203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourceKey('2001:DB8:1:2::9')).toBe(sourceKey('2001:db8:1:2::10'));
  });

  it('puts anything that is not an address into the overflow bucket', () => {
    for (const junk of ['', 'unknown', 'not:an:address', '300.1.1.1', '1.2.3.4, 5.6.7.8']) expect(sourceKey(junk)).toBe(OVERFLOW_SOURCE);
  });
});

describe('networkKey', () => {
  it('groups IPv4 addresses by /24, IPv4-mapped IPv6 included, and IPv6 addresses by /56', () => {
    expect(networkKey('203.0.113.7')).toBe('203.0.113.0/24');
    expect(networkKey('::ffff:203.0.113.200')).toBe('203.0.113.0/24');
    expect(networkKey('203.0.114.7')).toBe('203.0.114.0/24');
    expect(networkKey('2001:db8:7:40::1')).toBe('2001:db8:7:0::/56');
    expect(networkKey('2001:db8:7:ff:1::1')).toBe('2001:db8:7:0::/56');
    expect(networkKey('2001:db8:7:100::1')).toBe('2001:db8:7:100::/56');
    expect(networkKey('2001:0DB8:0007:12AB::1')).toBe('2001:db8:7:1200::/56');
    expect(networkKey('::1')).toBe('0:0:0:0::/56');
    expect(networkKey('fe80::1%eth0')).toBe('fe80:0:0:0::/56');
  });

  it('puts anything that is not an address into the overflow bucket', () => {
    for (const junk of ['', 'unknown', 'not:an:address', '300.1.1.1', '1.2.3.4, 5.6.7.8']) expect(networkKey(junk)).toBe(OVERFLOW_SOURCE);
  });
});
