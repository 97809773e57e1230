import { DEFAULT_MAX_WS_TICKETS_PER_SESSION as MAX_WS_TICKETS_PER_HOST } from '../../src/limits';
import { createWsTicketStore, MAX_WS_TICKET_COOKIE_BYTES, takeWsTicket, WS_TICKET_TTL_MS } from '../../src/relay/ws-tickets';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaaaa.localhost';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbbbb.localhost';

function store(options: { maxTickets?: number; maxPerHost?: number } = {}) {
  let clock = 1_000_000;
  const s = createWsTicketStore({ now: () => clock, ...options });
  return { s, advance: (ms: number) => void (clock += ms) };
}

function mint(s: ReturnType<typeof createWsTicketStore>, host = A, cookie = 'sid=1'): string {
  const r = s.mint(host, host.split('.')[0]!, cookie);
  if (!r.ok) throw new Error(`mint refused: ${r.reason}`);
  return r.ticket;
}

describe('WebSocket ticket store', () => {
  it('mints random base64url tickets of 192 bits that redeem for their cookies on their own host', () => {
    const { s } = store();
    const t = mint(s, A, 'sid=abc; x=1');
    expect(t).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(mint(s)).not.toBe(t);
    expect(s.redeem(t, A)).toEqual({ ok: true, grant: { cookie: 'sid=abc; x=1', sessionId: A.split('.')[0] } });
  });

  it('redeems a ticket once only', () => {
    const { s } = store();
    const t = mint(s);
    expect(s.redeem(t, A).ok).toBe(true);
    expect(s.redeem(t, A)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses an unknown ticket', () => {
    const { s } = store();
    mint(s);
    expect(s.redeem('x'.repeat(32), A)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses a ticket after its TTL and forgets it', () => {
    const { s, advance } = store();
    const t = mint(s);
    advance(WS_TICKET_TTL_MS);
    expect(s.redeem(t, A)).toEqual({ ok: false, reason: 'expired' });
    expect(s.redeem(t, A)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('keeps a ticket live until just before its TTL', () => {
    const { s, advance } = store();
    const t = mint(s);
    advance(WS_TICKET_TTL_MS - 1);
    expect(s.redeem(t, A).ok).toBe(true);
  });

  it('never lends cookies to another session, and burns a ticket presented there', () => {
    const { s } = store();
    const t = mint(s, A, 'sid=secret');
    expect(s.redeem(t, B)).toEqual({ ok: false, reason: 'other-session' });
    expect(s.redeem(t, A)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses cookies over MAX_WS_TICKET_COOKIE_BYTES', () => {
    const { s } = store();
    expect(s.mint(A, 'a', `sid=${'x'.repeat(MAX_WS_TICKET_COOKIE_BYTES)}`)).toEqual({ ok: false, reason: 'too-large' });
    expect(s.mint(A, 'a', `sid=${'x'.repeat(MAX_WS_TICKET_COOKIE_BYTES - 4)}`).ok).toBe(true);
  });

  it('caps live tickets per host, and a redeemed or expired one frees its place', () => {
    const { s, advance } = store({ maxPerHost: 3 });
    const first = mint(s);
    mint(s);
    mint(s);
    expect(s.mint(A, 'a', 'sid=1')).toEqual({ ok: false, reason: 'too-many' });
    // Another session still has its share.
    expect(s.mint(B, 'b', 'sid=1').ok).toBe(true);
    s.redeem(first, A);
    expect(s.mint(A, 'a', 'sid=1').ok).toBe(true);
    advance(WS_TICKET_TTL_MS);
    expect(s.size()).toBe(0);
    expect(s.mint(A, 'a', 'sid=1').ok).toBe(true);
  });

  it('gives every session its own share: forty sessions each at their quota all mint', () => {
    const { s } = store();
    const hosts = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(26, 'h')}.localhost`);
    for (const host of hosts) for (let i = 0; i < MAX_WS_TICKETS_PER_HOST; i++) mint(s, host);
    expect(s.size()).toBe(40 * MAX_WS_TICKETS_PER_HOST);
    expect(s.mint(hosts[0]!, 'h', 'sid=1')).toEqual({ ok: false, reason: 'too-many' });
  });

  it('caps live tickets overall', () => {
    const { s, advance } = store({ maxTickets: 2, maxPerHost: 10 });
    mint(s, A);
    mint(s, B);
    expect(s.mint('c.localhost', 'c', 'sid=1')).toEqual({ ok: false, reason: 'too-many' });
    advance(WS_TICKET_TTL_MS);
    expect(s.mint('c.localhost', 'c', 'sid=1').ok).toBe(true);
    expect(s.size()).toBe(1);
  });

  it('sweeps expired tickets lazily, in expiry order, with no timer', () => {
    const { s, advance } = store();
    mint(s);
    advance(WS_TICKET_TTL_MS / 2);
    const later = mint(s);
    expect(s.size()).toBe(2);
    advance(WS_TICKET_TTL_MS / 2);
    expect(s.size()).toBe(1);
    expect(s.redeem(later, A).ok).toBe(true);
    expect(s.size()).toBe(0);
  });

  it('clear() forgets every ticket', () => {
    const { s } = store();
    const t = mint(s);
    s.clear();
    expect(s.size()).toBe(0);
    expect(s.redeem(t, A).ok).toBe(false);
    expect(s.mint(A, 'a', 'sid=1').ok).toBe(true);
  });
});

describe('takeWsTicket', () => {
  const P = 'wingman-ws-ticket';

  it('leaves a target without the parameter untouched', () => {
    expect(takeWsTicket('/ws', P)).toEqual({ target: '/ws', tickets: [] });
    expect(takeWsTicket('/ws?a=b%20c&flag', P)).toEqual({ target: '/ws?a=b%20c&flag', tickets: [] });
  });

  it('removes the parameter and keeps the rest of the query byte for byte', () => {
    expect(takeWsTicket(`/ws?a=b%20c&flag&${P}=T1`, P)).toEqual({ target: '/ws?a=b%20c&flag', tickets: ['T1'] });
    expect(takeWsTicket(`/ws?${P}=T1&x=+`, P)).toEqual({ target: '/ws?x=+', tickets: ['T1'] });
    expect(takeWsTicket(`/ws?${P}=T1`, P)).toEqual({ target: '/ws', tickets: ['T1'] });
  });

  it('reports every occurrence (the relay refuses several) and an empty value', () => {
    expect(takeWsTicket(`/ws?${P}=T1&${P}=T2`, P).tickets).toEqual(['T1', 'T2']);
    expect(takeWsTicket(`/ws?${P}`, P)).toEqual({ target: '/ws', tickets: [''] });
  });

  it('does not match a parameter that merely starts with the name', () => {
    expect(takeWsTicket(`/ws?${P}x=1`, P)).toEqual({ target: `/ws?${P}x=1`, tickets: [] });
  });
});
