import { createHmac } from 'node:crypto';
import { parseIceServers, parseP2PSettings } from '@wingman/protocol';
import { resolveConfig } from '../../src/config';
import { buildIceServers, p2pSettingsFor } from '../../src/p2p/ice-config';

describe('ICE configuration', () => {
  it('mints TURN REST API credentials: expiry:sessionId signed with HMAC-SHA1', () => {
    const { p2p } = resolveConfig({ p2p: { turnUrls: ['turn:127.0.0.1:3478'], turnSecret: 'secret', turnTtlS: 3600 } });
    const [turn] = buildIceServers(p2p, 'abc', 1_700_000_000_500);
    expect(turn).toEqual({
      urls: ['turn:127.0.0.1:3478'],
      username: '1700003600:abc',
      credential: createHmac('sha1', 'secret').update('1700003600:abc').digest('base64'),
    });
  });

  it('lists STUN servers, then TURN servers with credentials, in a form the protocol accepts', () => {
    const { p2p } = resolveConfig({
      p2p: { stunServers: ['stun:127.0.0.1:3478'], turnUrls: ['turn:127.0.0.1:3478?transport=udp'], turnSecret: 'k', turnTtlS: 600 },
    });
    const servers = buildIceServers(p2p, 'sess', 0);
    expect(servers).toEqual([
      { urls: ['stun:127.0.0.1:3478'] },
      { urls: ['turn:127.0.0.1:3478?transport=udp'], username: '600:sess', credential: createHmac('sha1', 'k').update('600:sess').digest('base64') },
    ]);
    expect(parseIceServers(servers)).toEqual(servers);
  });

  it('offers no ICE servers by default and enables P2P only when both sides allow it', () => {
    const { p2p } = resolveConfig({});
    expect(p2pSettingsFor(p2p, true, 's')).toEqual({ enabled: true, timeoutMs: 3000, iceServers: [], videoSection: true });
    expect(p2pSettingsFor(p2p, false, 's').enabled).toBe(false);
    expect(p2pSettingsFor(resolveConfig({ p2p: { enabled: false } }).p2p, true, 's').enabled).toBe(false);
  });

  it('asks viewers for the video section unless P2P_VIDEO_SECTION is false, in a form the protocol accepts', () => {
    expect(p2pSettingsFor(resolveConfig({ p2p: { videoSection: false } }).p2p, true, 's').videoSection).toBe(false);
    const settings = p2pSettingsFor(resolveConfig({}).p2p, true, 's');
    expect(parseP2PSettings(JSON.parse(JSON.stringify(settings)))).toEqual(settings);
  });
});
