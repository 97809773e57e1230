/**
 * Whose request it is: the socket's peer, an X-Forwarded-For entry behind
 * trusted proxies, or the address another node of the cluster vouched for
 * with a valid signature.
 */
import type { IncomingMessage } from 'node:http';
import { CLUSTER_HOP_HEADER, createViewerAddresses, forwardedAddress } from '../../src/viewers/viewer-address';

function req(peer: string, headers: Record<string, string | string[]> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
}

describe('forwardedAddress', () => {
  it('is the socket peer without trusted proxies, whatever X-Forwarded-For says', () => {
    expect(forwardedAddress(req('::ffff:127.0.0.1', { 'x-forwarded-for': '203.0.113.7' }), 0)).toBe('127.0.0.1');
  });

  it('takes the entry as many places from the right as proxies are trusted', () => {
    const r = req('10.0.0.2', { 'x-forwarded-for': '198.51.100.1, 203.0.113.7,10.0.0.1' });
    expect(forwardedAddress(r, 1)).toBe('10.0.0.1');
    expect(forwardedAddress(r, 2)).toBe('203.0.113.7');
    expect(forwardedAddress(r, 3)).toBe('198.51.100.1');
    // A chain shorter than the trust: its leftmost entry.
    expect(forwardedAddress(r, 9)).toBe('198.51.100.1');
  });

  it('falls back to the peer when the header is missing or empty, and caps what it keeps', () => {
    expect(forwardedAddress(req('10.0.0.2'), 1)).toBe('10.0.0.2');
    expect(forwardedAddress(req('10.0.0.2', { 'x-forwarded-for': ' , ' }), 1)).toBe('10.0.0.2');
    expect(forwardedAddress(req('10.0.0.2', { 'x-forwarded-for': 'x'.repeat(500) }), 1)).toHaveLength(64);
  });
});

describe('createViewerAddresses', () => {
  const key = Buffer.alloc(32, 9);
  const sender = createViewerAddresses({ trustProxy: 1, hopKey: key });
  const owner = createViewerAddresses({ trustProxy: 0, hopKey: key });

  it('passes the address the forwarding node resolved, signed, and the owner node takes it', () => {
    const value = sender.hopValue(req('127.0.0.1', { 'x-forwarded-for': '203.0.113.7' }));
    expect(value).toMatch(/^1;for=203\.0\.113\.7;sig=[A-Za-z0-9_-]{43}$/);
    expect(owner.of(req('10.9.9.9', { [CLUSTER_HOP_HEADER]: value }))).toBe('203.0.113.7');
  });

  it('ignores an unsigned, forged or foreign-key hop header: the request counts against its sender', () => {
    const value = sender.hopValue(req('127.0.0.1', { 'x-forwarded-for': '203.0.113.7' }));
    const forged = value.replace('203.0.113.7', '203.0.113.8');
    const foreign = createViewerAddresses({ trustProxy: 1, hopKey: Buffer.alloc(32, 1) }).hopValue(req('127.0.0.1', { 'x-forwarded-for': '203.0.113.7' }));
    for (const h of ['1', forged, foreign, `${value}x`, 'garbage']) expect(owner.of(req('10.9.9.9', { [CLUSTER_HOP_HEADER]: h }))).toBe('10.9.9.9');
  });

  it('marks the hop without an address when there is no key', () => {
    expect(createViewerAddresses({ trustProxy: 0 }).hopValue(req('127.0.0.1'))).toBe('1');
    expect(createViewerAddresses({ trustProxy: 0 }).of(req('10.9.9.9', { [CLUSTER_HOP_HEADER]: '1;for=1.2.3.4;sig=' + 'A'.repeat(43) }))).toBe('10.9.9.9');
  });
});
