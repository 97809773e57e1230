/** A session's address rules: the verdict for an address, with its reason; IPv4, IPv6 and IPv4-mapped addresses. */
import { addressVerdict, compileAddressRules, type SessionAddressRules } from '../../src/access/address-rules';

function rules(allow: string[], deny: string[] = []): SessionAddressRules {
  const compiled = compileAddressRules({ allow, deny });
  if ('problem' in compiled) throw new Error(compiled.problem);
  return compiled;
}

describe('addressVerdict', () => {
  it('lets every address through when the session has no rules', () => {
    expect(addressVerdict(undefined, 'not even an address')).toEqual({ kind: 'allowed' });
  });

  it('admits only the allowed networks, IPv4 and IPv6', () => {
    const r = rules(['10.0.0.0/8', '2001:db8::/32']);
    expect(addressVerdict(r, '10.200.1.1')).toEqual({ kind: 'allowed' });
    expect(addressVerdict(r, '2001:db8:1::9')).toEqual({ kind: 'allowed' });
    expect(addressVerdict(r, '11.0.0.1')).toEqual({ kind: 'refused', reason: 'not-allowed', address: '11.0.0.1' });
    expect(addressVerdict(r, '2001:db9::1')).toEqual({ kind: 'refused', reason: 'not-allowed', address: '2001:db9::1' });
  });

  it('lets a deny rule win over an allow rule that also matches', () => {
    const r = rules(['10.0.0.0/8'], ['10.9.0.0/16']);
    expect(addressVerdict(r, '10.9.3.4')).toMatchObject({ kind: 'refused', reason: 'denied' });
    expect(addressVerdict(r, '10.8.3.4')).toEqual({ kind: 'allowed' });
  });

  it('with deny rules only, admits every other address', () => {
    expect(addressVerdict(rules([], ['192.0.2.0/24']), '198.51.100.1')).toEqual({ kind: 'allowed' });
  });

  it('treats an IPv4-mapped IPv6 address as its IPv4 address, against rules of either family', () => {
    expect(addressVerdict(rules(['10.0.0.0/8']), '::ffff:10.1.2.3')).toEqual({ kind: 'allowed' });
    expect(addressVerdict(rules(['::ffff:a00:0/104']), '10.1.2.3')).toEqual({ kind: 'allowed' });
    expect(addressVerdict(rules([], ['::ffff:a00:0/104']), '10.1.2.3')).toMatchObject({ kind: 'refused', reason: 'denied' });
  });

  it('ignores an IPv6 zone', () => {
    expect(addressVerdict(rules(['fe80::/10']), 'fe80::1%eth0')).toEqual({ kind: 'allowed' });
  });

  it('refuses an address it cannot read whenever there are rules, deny-only ones included', () => {
    // inet_aton forms: 010.0.0.1 would be 8.0.0.1 to some readers and 10.0.0.1 to others.
    expect(addressVerdict(rules(['8.0.0.0/8', '10.0.0.0/8']), '010.0.0.1')).toMatchObject({ kind: 'refused', reason: 'unreadable' });
    expect(addressVerdict(rules([], ['192.0.2.0/24']), 'unknown')).toEqual({ kind: 'refused', reason: 'unreadable', address: 'unknown' });
    expect(addressVerdict(rules(['0.0.0.0/0']), '')).toMatchObject({ kind: 'refused', reason: 'unreadable' });
  });
});

describe('compileAddressRules', () => {
  it('names the first value that is not a CIDR', () => {
    expect(compileAddressRules({ allow: ['10.0.0.0/8'], deny: ['10.0.0.0/33'] })).toEqual({
      problem: 'addressRules.deny: "10.0.0.0/33" is not a CIDR in canonical form, such as 10.0.0.0/8 or 2001:db8::/32',
    });
    for (const odd of ['example.com', '010.0.0.0/8', '10.0/8', '2001:DB8::/32', '10.0.0.0/08'])
      expect(compileAddressRules({ allow: [odd], deny: [] })).toHaveProperty('problem');
  });
});
