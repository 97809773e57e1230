/** `--allow-ip` / `--deny-ip` values: normalised CIDRs, a bare address as one host, and a clear refusal for anything else. */
import { MAX_ADDRESS_RULES } from '@wingman/protocol';
import { resolveAddressRules } from '../../src/cli/address-rules';

describe('resolveAddressRules', () => {
  it('is undefined without either flag', () => {
    expect(resolveAddressRules(undefined, undefined)).toBeUndefined();
    expect(resolveAddressRules([], [])).toBeUndefined();
  });

  it('normalises CIDRs and makes a bare address one host, dropping repeats', () => {
    expect(resolveAddressRules(['10.0.0.0/8', ' 203.0.113.7 ', '2001:DB8:0:0::/32', '::1', '10.0.0.0/8', '::ffff:10.0.0.0/104'], ['192.168.1.0/24'])).toEqual({
      allow: ['10.0.0.0/8', '203.0.113.7/32', '2001:db8::/32', '::1/128', '::ffff:a00:0/104'],
      deny: ['192.168.1.0/24'],
    });
  });

  it('refuses host bits past the prefix, naming the network it likely meant', () => {
    expect(() => resolveAddressRules(['192.168.1.7/24'], undefined)).toThrow(
      'invalid --allow-ip "192.168.1.7/24": 192.168.1.7 has bits set past the /24 prefix; did you mean 192.168.1.0/24?',
    );
    expect(() => resolveAddressRules(undefined, ['2001:db8::1/32'])).toThrow('did you mean 2001:db8::/32?');
  });

  it('refuses what is not an address or CIDR', () => {
    for (const bad of [
      '10.0.0.0/33',
      '::/129',
      'example.com',
      '10.0.0',
      '10.1/16',
      '010.0.0.1',
      '',
      '10.0.0.0/-1',
      '1.2.3.4/8/8',
      'fe80::1%eth0',
      '10.0.0.0/8x',
    ])
      expect(() => resolveAddressRules([bad], undefined)).toThrow(/^invalid --allow-ip ".*": expected an IPv4 or IPv6 address or CIDR/);
  });

  it(`takes at most ${MAX_ADDRESS_RULES} per flag`, () => {
    const many = Array.from({ length: MAX_ADDRESS_RULES + 1 }, (_, i) => `10.0.${i}.0/24`);
    expect(() => resolveAddressRules(undefined, many)).toThrow(`--deny-ip: ${MAX_ADDRESS_RULES + 1} given, at most ${MAX_ADDRESS_RULES}`);
  });
});
