/**
 * Viewer identity on plain request objects: the viewer cookie cannot be made
 * up or moved to another session, cookie-less clients are one viewer per
 * address and User-Agent, the gate applies decisions and keeps refusals,
 * and the viewer cookie and header never reach the app.
 */
import type { IncomingMessage } from 'node:http';
import { OWN_SW_COOKIE, VIEWER_HEADER, type ServerToAgent } from '@wingman/protocol';
import { createKeyRing } from '../../src/keys/key-ring';
import type { Session } from '../../src/sessions/registry';
import { tagViewer } from '../../src/viewers/tag-viewer';
import { createViewerCookies, VIEWER_COOKIE } from '../../src/viewers/viewer-cookie';
import { createViewerGate, MAX_TRACKED_VIEWERS, MAX_WAITING_VIEWERS, MAX_WAITING_VIEWERS_PER_ADDRESS } from '../../src/viewers/viewer-gate';

const cookies = createViewerCookies({ key: Buffer.alloc(32, 9), secureCookie: true });
const NAV = ['sec-fetch-mode', 'navigate'];

function request(raw: string[]): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  return { rawHeaders: [...raw], headers } as unknown as IncomingMessage;
}

const pair = (setCookie: string | undefined) => setCookie!.split(';')[0]!;

function session(id = 'a'.repeat(26)): { session: Session; sent: ServerToAgent[] } {
  const sent: ServerToAgent[] = [];
  const agent = { sendControl: (m: ServerToAgent) => (sent.push(m), true) };
  return { session: { id, resumeSecret: 'x', agent } as unknown as Session, sent };
}

describe('viewer cookie', () => {
  it('gives each navigation without a cookie a fresh random id, as an HttpOnly, SameSite=Lax, Secure, host-only cookie', () => {
    const one = cookies(request(NAV), 's1', '10.0.0.1');
    const two = cookies(request(NAV), 's1', '10.0.0.1');
    expect(one.id).toMatch(/^[0-9a-f]{32}$/);
    expect(one.id).not.toBe(two.id);
    expect(one.setCookie).toMatch(new RegExp(`^${VIEWER_COOKIE}=${one.id}\\.[A-Za-z0-9_-]{22}; Max-Age=\\d+; Path=/; HttpOnly; Secure; SameSite=Lax$`));
    expect(cookies(request(['cookie', pair(one.setCookie)]), 's1', '10.0.0.2')).toEqual({ id: one.id });
  });

  it('ignores a cookie of another session, a made-up one and one with a forged MAC', () => {
    const issued = pair(cookies(request(NAV), 's1', '10.0.0.1').setCookie);
    const [, value] = issued.split('=');
    const [id, mac] = value!.split('.');
    for (const cookie of [issued, `${VIEWER_COOKIE}=${id}.${'A'.repeat(22)}`, `${VIEWER_COOKIE}=${'0'.repeat(32)}.${mac}`]) {
      const onOther = cookies(request(['cookie', cookie, ...NAV]), cookie === issued ? 's2' : 's1', '10.0.0.1');
      expect(onOther.id).not.toBe(id);
      expect(onOther.setCookie).toBeDefined();
    }
    const other = createViewerCookies({ key: Buffer.alloc(32, 8), secureCookie: false });
    expect(other(request(['cookie', issued]), 's1', '10.0.0.1').id).not.toBe(id);
  });

  it('accepts a cookie signed with the previous key of a ring', () => {
    const ring = createKeyRing(Buffer.alloc(32, 1));
    const ringed = createViewerCookies({ key: ring, secureCookie: false });
    const issued = ringed(request(NAV), 's1', '10.0.0.1');
    ring.adopt(Buffer.alloc(32, 2));
    expect(ringed(request(['cookie', pair(issued.setCookie)]), 's1', '10.0.0.1')).toEqual({ id: issued.id });
  });

  it('stops accepting a cookie, even one it accepted before, once its key has left the ring', () => {
    const ring = createKeyRing(Buffer.alloc(32, 1));
    const ringed = createViewerCookies({ key: ring, secureCookie: false });
    const issued = ringed(request(NAV), 's1', '10.0.0.1');
    const again = () => ringed(request(['cookie', pair(issued.setCookie)]), 's1', '10.0.0.1').id;
    expect(again()).toBe(issued.id);
    ring.adopt(Buffer.alloc(32, 2));
    expect(again()).toBe(issued.id);
    ring.adopt(Buffer.alloc(32, 3));
    expect(again()).not.toBe(issued.id);
  });

  it('makes a cookie-less client that does not navigate one viewer per address (IPv6: /64) and User-Agent', () => {
    const curl = (address: string, ua = 'curl/8') => cookies(request(['user-agent', ua]), 's1', address).id;
    expect(curl('10.0.0.1')).toBe(curl('10.0.0.1'));
    expect(curl('2001:db8::1')).toBe(curl('2001:db8::2'));
    expect(curl('10.0.0.1')).not.toBe(curl('10.0.0.2'));
    expect(curl('10.0.0.1')).not.toBe(curl('10.0.0.1', 'wget'));
    expect(cookies(request(['user-agent', 'curl/8']), 's2', '10.0.0.1').id).not.toBe(curl('10.0.0.1'));
  });

  it("sets no cookie on the Service Worker's own fetches", () => {
    expect(cookies(request([VIEWER_HEADER, 'x', 'x-wingman-via', 'sw']), 's1', '10.0.0.1').setCookie).toBeUndefined();
  });
});

describe('viewer gate', () => {
  const gate = createViewerGate({ cookies });

  it('announces a new viewer once, admits it on an open session, and holds it on an approve session', () => {
    const open = session();
    gate.enable(open.session, 'open');
    const first = gate.check(request(['user-agent', 'UA/1']), open.session, '10.0.0.1');
    gate.check(request(['user-agent', 'UA/1']), open.session, '10.0.0.1');
    expect(first).toMatchObject({ kind: 'admitted', viewer: { address: '10.0.0.1', userAgent: 'UA/1' } });
    expect(open.sent).toEqual([expect.objectContaining({ type: 'viewer', state: 'admitted', address: '10.0.0.1', userAgent: 'UA/1' })]);

    const approve = session();
    gate.enable(approve.session, 'approve');
    expect(gate.check(request([]), approve.session, '10.0.0.1').kind).toBe('waiting');
  });

  it('applies admit, refuse and refuse-all, announces each change and closes what a refused viewer holds', () => {
    const s = session();
    gate.enable(s.session, 'approve');
    const a = gate.check(request(['user-agent', 'A']), s.session, '10.0.0.1');
    const b = gate.check(request(['user-agent', 'B']), s.session, '10.0.0.1');
    if (a.kind === 'open' || b.kind === 'open') throw new Error('no gate');
    gate.decide(s.session, { type: 'viewer-decision', decision: 'admit', id: a.viewer.id });
    expect(gate.check(request(['user-agent', 'A']), s.session, '10.0.0.1').kind).toBe('admitted');
    let closed = 0;
    gate.hold(s.session, a.viewer.id, () => closed++);
    const release = gate.hold(s.session, a.viewer.id, () => closed++);
    release();
    gate.decide(s.session, { type: 'viewer-decision', decision: 'refuse', id: a.viewer.id });
    expect(closed).toBe(1);
    expect(gate.check(request(['user-agent', 'A']), s.session, '10.0.0.1').kind).toBe('refused');
    gate.decide(s.session, { type: 'viewer-decision', decision: 'refuse-all' });
    expect(gate.check(request(['user-agent', 'B']), s.session, '10.0.0.1').kind).toBe('refused');
    expect(s.sent.map((m) => (m.type === 'viewer' ? m.state : m.type))).toEqual(['waiting', 'waiting', 'admitted', 'refused', 'refused']);
  });

  it(`forgets the least recently seen of more than ${MAX_TRACKED_VIEWERS} viewers, but keeps its refusal`, () => {
    const s = session();
    gate.enable(s.session, 'open');
    const first = gate.check(request(['user-agent', 'first']), s.session, '10.0.0.1');
    if (first.kind === 'open') throw new Error('no gate');
    gate.decide(s.session, { type: 'viewer-decision', decision: 'refuse', id: first.viewer.id });
    for (let i = 0; i < MAX_TRACKED_VIEWERS; i++) gate.check(request(['user-agent', `ua-${i}`]), s.session, '10.0.0.1');
    expect(s.session.viewers!.records.has(first.viewer.id)).toBe(false);
    expect(gate.check(request(['user-agent', 'first']), s.session, '10.0.0.1').kind).toBe('refused');
  });

  it('never forgets an admitted viewer of an approve session for newcomers, and caps waiting viewers per address and in all', () => {
    const s = session();
    gate.enable(s.session, 'approve');
    const reviewer = gate.check(request(NAV), s.session, '192.0.2.7');
    if (reviewer.kind === 'open') throw new Error('no gate');
    gate.decide(s.session, { type: 'viewer-decision', decision: 'admit', id: reviewer.viewer.id });
    // One address navigates without cookies: a new waiting viewer each time.
    for (let i = 0; i < MAX_TRACKED_VIEWERS + 10; i++) gate.check(request(NAV), s.session, '10.0.0.1');
    expect(s.session.viewers!.records.get(reviewer.viewer.id)?.state).toBe('admitted');
    const waiting = () => [...s.session.viewers!.records.values()].filter((v) => v.state === 'waiting');
    expect(waiting()).toHaveLength(MAX_WAITING_VIEWERS_PER_ADDRESS);
    // The agent heard of each forgotten one, so its list stays as short.
    const gone = s.sent.filter((m) => m.type === 'viewer-gone').length;
    expect(gone).toBe(MAX_TRACKED_VIEWERS + 10 - MAX_WAITING_VIEWERS_PER_ADDRESS);

    // Many addresses: the session's cap holds, and a newcomer from a new address always gets in.
    for (let i = 0; i < 200; i++) gate.check(request(NAV), s.session, `10.1.${i >> 8}.${i & 255}`);
    expect(waiting()).toHaveLength(MAX_WAITING_VIEWERS);
    for (let i = 0; i < 3; i++) gate.check(request(NAV), s.session, '10.0.0.1');
    const fromFlooder = () => waiting().filter((v) => v.address === '10.0.0.1').length;
    const before = fromFlooder();
    expect(before).toBeGreaterThan(1);
    const newcomer = gate.check(request(NAV), s.session, '198.51.100.1');
    expect(newcomer.kind).toBe('waiting');
    expect(waiting()).toHaveLength(MAX_WAITING_VIEWERS);
    // The address with the most waiting gave up its least recently seen one for it.
    expect(fromFlooder()).toBe(before - 1);
    expect(s.session.viewers!.records.get(reviewer.viewer.id)?.state).toBe('admitted');
  });
});

describe('tagViewer', () => {
  it('removes the viewer cookie and any viewer header the viewer sent, and names the viewer for the agent', () => {
    const req = request(['Cookie', `a=1; ${VIEWER_COOKIE}=x.y; b=2`, 'X-Wingman-Viewer', 'forged', 'Accept', '*/*']);
    tagViewer(req, 'f'.repeat(32));
    expect(req.rawHeaders).toEqual(['Cookie', 'a=1; b=2', 'Accept', '*/*', VIEWER_HEADER, 'f'.repeat(32)]);
    expect(req.headers.cookie).toBe('a=1; b=2');
    expect(req.headers[VIEWER_HEADER]).toBe('f'.repeat(32));
    const open = request([VIEWER_HEADER, 'forged', 'cookie', `${VIEWER_COOKIE}=x.y`]);
    tagViewer(open, undefined);
    expect(open.rawHeaders).toEqual([]);
    expect(open.headers.cookie).toBeUndefined();
  });

  it('removes the own-Service-Worker cookie too, on an open session as behind a gate', () => {
    const req = request(['Cookie', `${OWN_SW_COOKIE}=1; a=1; ${VIEWER_COOKIE}=x.y`]);
    tagViewer(req, undefined);
    expect(req.rawHeaders).toEqual(['Cookie', 'a=1']);
    expect(req.headers.cookie).toBe('a=1');
  });
});
