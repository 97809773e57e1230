import { createViewerStreamQuota, REFUSAL_MESSAGES } from '../../src/relay/viewer-streams';
import { shareFloor } from '../../src/sessions/push-out';

describe('viewer stream quota', () => {
  it('caps a viewer at the configured limit or a quarter of the agent connection, whichever is lower', () => {
    const quota = createViewerStreamQuota(3);
    const session = { id: 'a' };
    expect([1, 2, 3, 4].map(() => quota.acquire(session, '10.0.0.1', 1024))).toEqual(['taken', 'taken', 'taken', 'source']);
    const small = { id: 'b' };
    expect([1, 2, 3].map(() => quota.acquire(small, '10.0.0.1', 8))).toEqual(['taken', 'taken', 'source']);
  });

  it('counts viewers per session, and IPv6 viewers per /64', () => {
    const quota = createViewerStreamQuota(1);
    const a = { id: 'a' };
    const b = { id: 'b' };
    expect(quota.acquire(a, '2001:db8:1:2::1', 1024)).toBe('taken');
    expect(quota.acquire(a, '2001:db8:1:2:ffff::9', 1024)).toBe('source');
    expect(quota.acquire(a, '2001:db8:1:3::1', 1024)).toBe('taken');
    expect(quota.acquire(b, '2001:db8:1:2::1', 1024)).toBe('taken');
  });

  it('gives a slot back when no stream was opened for it', () => {
    const quota = createViewerStreamQuota(1);
    const s = { id: 's' };
    expect(quota.acquire(s, '10.0.0.1', 1024)).toBe('taken');
    quota.hold(s, '10.0.0.1', undefined, () => {});
    expect(quota.count(s, '10.0.0.1')).toBe(0);
    expect(quota.acquire(s, '10.0.0.1', 1024)).toBe('taken');
  });

  it('lets a network within its floor (1/32 of the agent connection) past its share while streams are free', () => {
    const quota = createViewerStreamQuota(256);
    const s = { id: 's' };
    // 62 networks of one stream each leave 2 of 64: a quarter of that is less than one.
    for (let i = 0; i < 62; i++) expect(quota.acquire(s, `10.${i}.0.1`, 64)).toBe('taken');
    // The floor of 64 streams is 2: a newcomer gets both, then waits like everyone else.
    expect([1, 2, 3].map(() => quota.acquire(s, '10.200.0.1', 64))).toEqual(['taken', 'taken', 'full']);
    expect(shareFloor(1024)).toBe(32);
    expect(shareFloor(16)).toBe(1);
  });

  it('refuses a viewer whose network holds its share with a message that names the network, not the viewer', () => {
    const quota = createViewerStreamQuota(256);
    const s = { id: 's' };
    for (let i = 0; i < 16; i++) quota.acquire(s, '10.0.0.1', 64);
    expect(quota.acquire(s, '10.0.0.2', 64)).toBe('network');
    expect(REFUSAL_MESSAGES.network).toMatch(/^Your network .*IPv4 \/24, an IPv6 \/56/);
    expect(REFUSAL_MESSAGES.source).toMatch(/^You have too many requests/);
  });
});
