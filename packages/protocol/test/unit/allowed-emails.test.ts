/**
 * The sign-in gate's email patterns (allowed-emails.ts): what `wingman` and
 * the register accept, and how a verified email is matched.
 */
import {
  emailAllowed,
  MAX_ALLOWED_EMAILS,
  normaliseEmailPattern,
  parseAgentMessage,
  parseAllowedEmails,
  ProtocolError,
  type RegisterMessage,
} from '@wingman/protocol';

describe('email patterns', () => {
  it('takes one address or *@domain, lower-cased, and refuses anything else', () => {
    expect(normaliseEmailPattern(' Alice@Example.COM ')).toBe('alice@example.com');
    expect(normaliseEmailPattern('*@Team.Example.com')).toBe('*@team.example.com');
    expect(normaliseEmailPattern('first.last+tag@example.co.uk')).toBe('first.last+tag@example.co.uk');
    for (const bad of ['example.com', '@example.com', 'alice@', 'a*@example.com', '*@*.example.com', 'alice@exa mple.com', 'a@b@c.com', '*', 'alice@-x.com'])
      expect(normaliseEmailPattern(bad)).toBeUndefined();
    expect(normaliseEmailPattern(`${'a'.repeat(60)}@${'b'.repeat(200)}.com`)).toBeUndefined();
  });

  it('matches an address exactly and a domain without its subdomains, ignoring case', () => {
    const patterns = ['alice@example.com', '*@team.example.com'];
    expect(emailAllowed(patterns, 'Alice@Example.com')).toBe(true);
    expect(emailAllowed(patterns, 'bob@team.example.com')).toBe(true);
    expect(emailAllowed(patterns, 'bob@example.com')).toBe(false);
    expect(emailAllowed(patterns, 'bob@sub.team.example.com')).toBe(false);
    expect(emailAllowed(patterns, 'bob@evilteam.example.com')).toBe(false);
    expect(emailAllowed(patterns, 'alice@example.com.evil.org')).toBe(false);
    expect(emailAllowed(['*@example.com'], 'not-an-email')).toBe(false);
  });

  it("reads a register's allowEmails and refuses any other shape", () => {
    const register = { type: 'register', version: 1, p2p: true, client: 'wingman/0.1.0' };
    const read = (allowEmails: unknown) => (parseAgentMessage(JSON.stringify({ ...register, allowEmails })) as RegisterMessage).allowEmails;
    expect(read(['alice@example.com', '*@example.com'])).toEqual(['alice@example.com', '*@example.com']);
    for (const bad of [[], 'alice@example.com', ['Alice@example.com'], ['nope'], [7], Array(MAX_ALLOWED_EMAILS + 1).fill('a@example.com')])
      expect(() => read(bad)).toThrow(ProtocolError);
    expect(() => parseAllowedEmails(['x@example.com', 'x'])).toThrow(/not a lower-case email or \*@domain/);
  });
});
