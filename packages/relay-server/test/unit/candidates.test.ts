/** Which viewer candidates the P2P host drops, and SDP candidate lines. */
import {
  answerCandidates,
  isHostCandidate,
  sdpCandidates,
  sdpWithoutRelatedAddresses,
  unreachableReason,
  withoutCandidates,
  withoutRelatedAddress,
} from '../../src/p2p/candidates';
import { candidateKind } from '../../src/p2p/ice-trace';

const line = (address: string, type = 'host') => `candidate:1 1 udp 2122260223 ${address} 50000 typ ${type}`;
const remote = { acceptLoopback: false, ownAddresses: new Set(['192.168.1.20', '2001:db8::20']) };

describe('unreachableReason', () => {
  it('drops link-local, unspecified, multicast, broadcast, loopback and own addresses, and keeps the rest', () => {
    for (const a of [
      '169.254.10.1',
      'fe80::1',
      '0.0.0.0',
      '::',
      '224.0.0.251',
      'ff02::fb',
      '255.255.255.255',
      '127.0.0.1',
      '::1',
      '192.168.1.20',
      '2001:DB8::20',
    ])
      expect([a, unreachableReason(line(a), remote)]).toEqual([a, expect.any(String)]);
    for (const a of ['192.168.1.21', '10.0.0.7', '203.0.113.5', '2001:db8::21', 'b7c1e0d2-1111-4222-8333-944455556666.local'])
      expect([a, unreachableReason(line(a), remote)]).toEqual([a, undefined]);
    expect(unreachableReason(line('127.0.0.1'), { ...remote, acceptLoopback: true })).toBeUndefined();
    expect(unreachableReason('garbage', remote)).toBe('not a candidate line');
  });
});

describe('SDP candidate lines', () => {
  it('lists and removes candidate lines, keeping every other line', () => {
    const sdp = [
      'v=0',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      `a=${line('10.0.0.1')}`,
      `a=${line('203.0.113.9', 'srflx')}`,
      'a=end-of-candidates',
      '',
    ].join('\r\n');
    expect(sdpCandidates(sdp)).toHaveLength(2);
    const out = withoutCandidates(sdp, isHostCandidate);
    expect(sdpCandidates(out)).toEqual([`a=${line('203.0.113.9', 'srflx')}`]);
    expect(out).toContain('a=end-of-candidates\r\n');
  });
});

describe('candidateKind (the set-up trace)', () => {
  it('names a candidate by its type and protocol, from a bare or an SDP line; ? for what it lacks', () => {
    expect(candidateKind(line('10.0.0.2', 'srflx'))).toBe('srflx udp');
    expect(candidateKind('a=candidate:2 1 TCP 1518280447 10.0.0.2 9 typ host tcptype active')).toBe('host tcp');
    expect(candidateKind('candidate:3 1 udp 41885439 10.0.0.9 3478 typ relay raddr 1.2.3.4 rport 5')).toBe('relay udp');
    expect(candidateKind('candidate:4 1')).toBe('? ?');
    expect(candidateKind('')).toBe('? ?');
  });
});

describe('withoutRelatedAddress', () => {
  // As @roamhq/wrtc gathers them behind a NAT: each names the LAN address it was mapped from.
  const srflx = 'candidate:1933932544 1 udp 1686052607 10.231.112.10 48515 typ srflx raddr 10.231.113.10 rport 48515 generation 0 ufrag mTMJ network-id 1';
  const relay = 'candidate:2 1 udp 41885439 10.231.0.1 50000 typ relay raddr 10.231.112.10 rport 48515 generation 0';

  it('names no related address in a public or relay candidate, and leaves the rest of the line', () => {
    expect(withoutRelatedAddress(srflx)).toBe(
      'candidate:1933932544 1 udp 1686052607 10.231.112.10 48515 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag mTMJ network-id 1',
    );
    expect(withoutRelatedAddress(relay)).toBe('candidate:2 1 udp 41885439 10.231.0.1 50000 typ relay raddr 0.0.0.0 rport 0 generation 0');
    expect(withoutRelatedAddress(line('10.0.0.7'))).toBe(line('10.0.0.7'));
  });

  it('rewrites every candidate line of an SDP and no other line', () => {
    const sdp = ['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', `a=${srflx}`, `a=${relay}`, 'a=mid:0', ''].join('\r\n');
    const out = sdpWithoutRelatedAddresses(sdp);
    expect(out).not.toContain('10.231.113.10');
    expect(out).toContain('typ srflx raddr 0.0.0.0 rport 0');
    expect(out.split('\r\n')).toHaveLength(sdp.split('\r\n').length);
    expect(out.split('\r\n')[4]).toBe('a=mid:0');
  });
});

describe('answerCandidates', () => {
  // An answer of @roamhq/wrtc with the candidates it had gathered when it was read.
  const answer = [
    'v=0',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    'a=candidate:4060970676 1 udp 2122260223 10.231.113.10 48515 typ host generation 0',
    'a=candidate:1510613869 1 udp 2122194687 127.0.0.1 37126 typ host generation 0',
    'a=candidate:1933932544 1 udp 1686052607 10.231.112.10 48515 typ srflx raddr 10.231.113.10 rport 48515 generation 0',
    'a=mid:0',
    '',
  ].join('\r\n');
  const addresses = (sdp: string) => sdpCandidates(sdp).map((l) => l.split(' ')[4]);

  it("leaves a loopback candidate out of a remote viewer's answer and keeps it for a viewer on this machine", () => {
    expect(addresses(answerCandidates(answer, { loopback: false, hideHost: false }))).toEqual(['10.231.113.10', '10.231.112.10']);
    expect(answerCandidates(answer, { loopback: true, hideHost: false })).toBe(answer);
  });

  it('leaves out the lines that are held to be trickled later', () => {
    const held = (l: string) => / typ host /.test(l) && !l.includes(' 127.0.0.1 ');
    expect(addresses(answerCandidates(answer, { loopback: false, hideHost: false, held }))).toEqual(['10.231.112.10']);
    expect(addresses(answerCandidates(answer, { loopback: true, hideHost: false, held }))).toEqual(['127.0.0.1', '10.231.112.10']);
  });

  it('with host candidates hidden, keeps only the public one, naming no related address', () => {
    const out = answerCandidates(answer, { loopback: false, hideHost: true });
    expect(sdpCandidates(out)).toEqual(['a=candidate:1933932544 1 udp 1686052607 10.231.112.10 48515 typ srflx raddr 0.0.0.0 rport 0 generation 0']);
    expect(out).toContain('a=mid:0');
  });
});
