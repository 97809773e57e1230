/**
 * The signaling of resumed peer connections (docs/PROTOCOL.md §Resumed peer
 * connections): `prepare`, `prepared`, an offer's `resume` token and the
 * hello's `p2p.resume`, as each end parses them.
 */
import { parseHostSignal, parseSignalHello, parseViewerSignal, RESUME_TOKEN_PATTERN, SIGNALING_ERROR_CODES } from '../../src';

const TOKEN = 'Ab0_-'.repeat(4) + 'xy';

describe('resumed peer connections on the signaling socket', () => {
  it('reads a prepare, a prepared answer and a claiming offer', () => {
    expect(TOKEN).toMatch(RESUME_TOKEN_PATTERN);
    expect(parseViewerSignal('{"type":"prepare","sdp":"v=0","mac":"m"}')).toEqual({ type: 'prepare', sdp: 'v=0', mac: 'm' });
    expect(parseHostSignal(`{"type":"prepared","sdp":"v=0","resume":"${TOKEN}"}`)).toEqual({ type: 'prepared', sdp: 'v=0', resume: TOKEN });
    expect(parseViewerSignal(`{"type":"offer","sdp":"v=0","resume":"${TOKEN}"}`)).toEqual({ type: 'offer', sdp: 'v=0', resume: TOKEN });
    expect(SIGNALING_ERROR_CODES).toContain('ERR_RESUME_UNKNOWN');
  });

  it('refuses a malformed token, a prepare for a later peer connection and a prepared answer without its token', () => {
    for (const bad of ['short', `${TOKEN}x`, `${TOKEN.slice(0, 21)}=`, 'A'.repeat(22).replace('A', ' ')]) {
      expect(() => parseViewerSignal(JSON.stringify({ type: 'offer', sdp: 'v=0', resume: bad }))).toThrow(/resume/);
      expect(() => parseHostSignal(JSON.stringify({ type: 'prepared', sdp: 'v=0', resume: bad }))).toThrow(/resume/);
    }
    expect(() => parseViewerSignal('{"type":"offer","sdp":"v=0","resume":7}')).toThrow(/resume/);
    expect(() => parseViewerSignal('{"type":"prepare","sdp":"v=0","pc":1}')).toThrow(/unknown field "pc"/);
    expect(() => parseHostSignal('{"type":"prepared","sdp":"v=0"}')).toThrow(/resume/);
    // Each end sends only its own: an agent's prepared answer from a viewer, a viewer's prepare from the agent.
    expect(() => parseViewerSignal(`{"type":"prepared","sdp":"v=0","resume":"${TOKEN}"}`)).toThrow(/unknown signaling message type/);
    expect(() => parseHostSignal('{"type":"prepare","sdp":"v=0"}')).toThrow(/unknown signaling message type/);
  });

  it("reads the hello's p2p.resume (absent: on)", () => {
    const hello = (p2p: object) =>
      parseSignalHello(JSON.stringify({ type: 'hello', viewerId: '0123456789abcdef', p2p: { enabled: true, timeoutMs: 3000, iceServers: [], ...p2p } }));
    expect(hello({}).p2p.resume).toBeUndefined();
    expect(hello({ resume: false }).p2p.resume).toBe(false);
    expect(() => hello({ resume: 'no' })).toThrow(/resume/);
  });
});
