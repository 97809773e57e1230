/**
 * The agent's public-candidate prediction: what a gathered candidate teaches
 * the memory, and what it predicts for a host candidate. The lines are the
 * shapes @roamhq/wrtc gathers behind the lab's port-keeping NAT.
 */
import { PREDICTED_PRIORITY, PublicAddressMemory, stunOnly } from '../../src/p2p/predicted-candidate';

const host = (address: string, port: number, extra = ' generation 0 ufrag mTMJ network-id 1') => ({
  candidate: `candidate:4060970676 1 udp 2122260223 ${address} ${port} typ host${extra}`,
  sdpMid: '0',
  sdpMLineIndex: 0,
});
const srflx = (mapped: string, port: number, base: string, basePort: number) =>
  `candidate:1933932544 1 udp 1686052607 ${mapped} ${port} typ srflx raddr ${base} rport ${basePort} generation 0 ufrag mTMJ network-id 1`;

describe('PublicAddressMemory', () => {
  it('predicts nothing before a gathering has shown a public address', () => {
    const m = new PublicAddressMemory();
    expect(m.current()).toBeUndefined();
    expect(m.predict(host('10.231.113.10', 48515))).toBeUndefined();
    // Host and relay candidates teach it nothing.
    expect(m.observe(host('10.231.113.10', 48515).candidate)).toBe(false);
    expect(m.observe('candidate:2 1 udp 41885439 10.231.0.1 50000 typ relay raddr 10.231.112.10 rport 48515')).toBe(false);
    expect(m.current()).toBeUndefined();
  });

  it("after a port-keeping gathering, follows each host candidate with the public address on the host candidate's port, naming no private address", () => {
    const m = new PublicAddressMemory();
    expect(m.observe(srflx('10.231.112.10', 48515, '10.231.113.10', 48515))).toBe(true);
    expect(m.current()).toEqual({ address: '10.231.112.10', keepsPort: true });
    expect(m.predict(host('10.231.113.10', 33523))).toEqual({
      candidate: `candidate:p4060970676 1 udp ${PREDICTED_PRIORITY} 10.231.112.10 33523 typ srflx raddr 0.0.0.0 rport 0 generation 0`,
      sdpMid: '0',
      sdpMLineIndex: 0,
    });
  });

  it('ranks a prediction below every host candidate and above the gathered public candidate', () => {
    expect(PREDICTED_PRIORITY).toBeLessThan(2122194687);
    expect(PREDICTED_PRIORITY).toBeGreaterThan(1686052607);
    expect(Number.isInteger(PREDICTED_PRIORITY) && PREDICTED_PRIORITY < 2 ** 31).toBe(true);
  });

  it('stops predicting after a gathering shows a NAT that changed the port, and starts again when one keeps it', () => {
    const m = new PublicAddressMemory();
    m.observe(srflx('198.51.100.7', 40001, '192.168.1.20', 50000));
    expect(m.current()).toEqual({ address: '198.51.100.7', keepsPort: false });
    expect(m.predict(host('192.168.1.20', 50002))).toBeUndefined();
    m.observe(srflx('198.51.100.8', 50004, '192.168.1.20', 50004));
    expect(m.predict(host('192.168.1.20', 50006))?.candidate).toContain(' 198.51.100.8 50006 typ srflx ');
  });

  it('predicts nothing for loopback, link-local, IPv6, TCP, component 2 or an already public host candidate', () => {
    const m = new PublicAddressMemory();
    m.observe(srflx('203.0.113.9', 50000, '192.168.1.20', 50000));
    for (const c of [
      host('127.0.0.1', 50000),
      host('169.254.3.4', 50000),
      host('203.0.113.9', 50000),
      { candidate: 'candidate:1 1 udp 2122262783 2001:db8::20 50000 typ host' },
      { candidate: 'candidate:3 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active' },
      { candidate: 'candidate:1 2 udp 2122260222 192.168.1.20 50001 typ host' },
      { candidate: 'not a candidate' },
    ])
      expect([c.candidate, m.predict(c)]).toEqual([c.candidate, undefined]);
  });

  it('learns no public address from a loopback or private-looking STUN answer it cannot use', () => {
    const m = new PublicAddressMemory();
    expect(m.observe(srflx('127.0.0.1', 50000, '127.0.0.1', 50000))).toBe(false);
    expect(m.observe(srflx('0.0.0.0', 50000, '192.168.1.20', 50000))).toBe(false);
    expect(m.current()).toBeUndefined();
  });
});

describe('stunOnly', () => {
  it('keeps the STUN URLs and leaves TURN servers out (a start-up gathering must not allocate relays)', () => {
    expect(
      stunOnly([{ urls: ['stun:10.231.0.1:3478', 'stuns:example.test:5349'] }, { urls: ['turn:10.231.0.1:3478?transport=udp', 'turns:example.test:5349'] }]),
    ).toEqual(['stun:10.231.0.1:3478', 'stuns:example.test:5349']);
    expect(stunOnly([])).toEqual([]);
  });
});
