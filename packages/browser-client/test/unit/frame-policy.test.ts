/**
 * The app's framing and script policies, as the shell's frame gets them:
 * the shell (same origin) may frame the app and run the shim; nothing else
 * is allowed that was refused.
 */
import { framePolicy } from '../../src/sw/frame-policy';
import type { WireHeaders } from '../../src/shared/messages';

const SHIM = 'http://s.localhost:8080/__wingman/shim.js';
const csp = (h: WireHeaders) => h.filter(([n]) => n === 'content-security-policy').map(([, v]) => v);

describe('framePolicy', () => {
  it('turns X-Frame-Options DENY into SAMEORIGIN and keeps SAMEORIGIN', () => {
    expect(framePolicy([['x-frame-options', 'DENY']], SHIM, false).headers).toEqual([['x-frame-options', 'SAMEORIGIN']]);
    expect(framePolicy([['x-frame-options', 'sameorigin']], SHIM, false).headers).toEqual([['x-frame-options', 'sameorigin']]);
  });

  it("lets the shell be an ancestor: 'none' becomes 'self', a list gains 'self'", () => {
    expect(csp(framePolicy([['content-security-policy', "frame-ancestors 'none'"]], SHIM, false).headers)).toEqual(["frame-ancestors 'self'"]);
    expect(csp(framePolicy([['content-security-policy', 'frame-ancestors https://partner.example']], SHIM, false).headers)).toEqual([
      "frame-ancestors https://partner.example 'self'",
    ]);
    expect(csp(framePolicy([['content-security-policy', "default-src 'self'"]], SHIM, false).headers)).toEqual(["default-src 'self'"]);
  });

  it("admits the shim by the policy's own nonce under strict-dynamic, changing nothing", () => {
    const p = framePolicy([['content-security-policy', "script-src 'nonce-abc123' 'strict-dynamic'; object-src 'none'"]], SHIM, true);
    expect(p.shimNonce).toBe('abc123');
    expect(csp(p.headers)).toEqual(["script-src 'nonce-abc123' 'strict-dynamic'; object-src 'none'"]);
  });

  it('adds a nonce of its own under strict-dynamic with hashes only', () => {
    const p = framePolicy([['content-security-policy', "script-src 'sha256-AAAA' 'strict-dynamic'"]], SHIM, true);
    expect(p.shimNonce).toMatch(/^[A-Za-z0-9+/=]{24}$/);
    expect(csp(p.headers)).toEqual([`script-src 'sha256-AAAA' 'strict-dynamic' 'nonce-${p.shimNonce}'`]);
  });

  it("needs nothing where 'self' already admits a same-origin script", () => {
    const p = framePolicy([['content-security-policy', "script-src 'self' 'unsafe-inline'"]], SHIM, true);
    expect(p.shimNonce).toBeUndefined();
    expect(csp(p.headers)).toEqual(["script-src 'self' 'unsafe-inline'"]);
  });

  it("admits the shim's exact URL where scripts come from elsewhere, keeping 'unsafe-inline' in force", () => {
    const p = framePolicy([['content-security-policy', "script-src https://cdn.example 'unsafe-inline'"]], SHIM, true);
    expect(p.shimNonce).toBeUndefined();
    expect(csp(p.headers)).toEqual([`script-src https://cdn.example 'unsafe-inline' ${SHIM}`]);
  });

  it("gives default-src 'none' a script-src-elem of the shim's URL alone", () => {
    const p = framePolicy([['content-security-policy', "default-src 'none'; frame-ancestors 'none'"]], SHIM, true);
    expect(csp(p.headers)).toEqual([`default-src 'none'; frame-ancestors 'self'; script-src-elem ${SHIM}`]);
  });

  it('leaves report-only policies and other headers alone, in order', () => {
    const headers: WireHeaders = [
      ['content-type', 'text/html'],
      ['content-security-policy-report-only', "frame-ancestors 'none'"],
      ['x-frame-options', 'DENY'],
    ];
    expect(framePolicy(headers, SHIM, true).headers).toEqual([
      ['content-type', 'text/html'],
      ['content-security-policy-report-only', "frame-ancestors 'none'"],
      ['x-frame-options', 'SAMEORIGIN'],
    ]);
  });
});
