/**
 * The sign-in gate's decisions on a session origin (access/sign-in-gate.ts)
 * and its signed values (access/sign-in-tokens.ts): what passes, what is sent
 * to sign in, what is refused, that a value made for one use or session is
 * never accepted for another, and that a hand-off is taken only in the
 * browser that started the sign-in (access/sign-in-binding.ts). The flow with
 * a real identity provider is test/integration/sign-in.test.ts.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BIND_COOKIE } from '../../src/access/sign-in-binding';
import { createSignInGate, safeReturnPath, SIGN_IN_PATH } from '../../src/access/sign-in-gate';
import { createSignedValues, SIGN_IN_COOKIE } from '../../src/access/sign-in-tokens';
import type { Session } from '../../src/sessions/registry';

const KEY = new Uint8Array(32).fill(7);
const SESSION = 'abcdefghijklmnopqrstuvwxyz';
const OTHER = 'zyxwvutsrqponmlkjihgfedcba';
const signed = createSignedValues(KEY);
const gate = createSignInGate({ signed, publicUrl: 'https://tunnel.example.com', secureCookie: true, signInTtlS: 43_200 });
const session = { id: SESSION, allowEmails: ['alice@example.com', '*@team.example.com'] } as unknown as Session;
const nowS = () => Math.floor(Date.now() / 1000);
const digest = (secret: string) => createHash('sha256').update(secret).digest('base64url');

function req(url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, method: 'GET', headers } as unknown as IncomingMessage;
}
const withCookie = (value: string, url = '/app') => req(url, { cookie: `${SIGN_IN_COOKIE}=${value}` });

describe('signed values', () => {
  it('are bound to their purpose, unforgeable, and end at their expiry', () => {
    const value = signed.sign('session', { e: 'alice@example.com', s: SESSION, x: nowS() + 60 });
    expect(signed.verify('session', value)?.e).toBe('alice@example.com');
    expect(signed.verify('identity', value)).toBeUndefined();
    expect(signed.verify('session', value, nowS() + 61)).toBeUndefined();
    const [body, mac] = value.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ e: 'mallory@example.com', s: SESSION, x: nowS() + 60 })).toString('base64url');
    expect(signed.verify('session', `${forged}.${mac}`)).toBeUndefined();
    expect(signed.verify('session', `${body}.${mac.slice(1)}x`)).toBeUndefined();
    expect(createSignedValues(new Uint8Array(32).fill(8)).verify('session', value)).toBeUndefined();
  });
});

describe('the sign-in gate', () => {
  it('lets a session without allowEmails through untouched', () => {
    expect(gate.check(req('/'), SESSION, { id: SESSION } as unknown as Session)).toEqual({ kind: 'granted' });
  });

  it("sends a browser's navigation to its origin's sign-in start, which binds it and goes on to the apex's sign-in; anything else gets a 401", () => {
    const nav = gate.check(req('/a?b=1', { 'sec-fetch-mode': 'navigate' }), SESSION, session);
    expect(nav).toEqual({ kind: 'sign-in', location: `${SIGN_IN_PATH}?return=${encodeURIComponent('/a?b=1')}` });
    const start = gate.check(req((nav as { location: string }).location), SESSION, session) as { kind: string; location: string; setCookie: string };
    expect(start.kind).toBe('sign-in');
    expect(start.setCookie).toMatch(new RegExp(`^${BIND_COOKIE}=[A-Za-z0-9_-]{43}; Max-Age=600; Path=${SIGN_IN_PATH}; HttpOnly; Secure; SameSite=Lax$`));
    const to = new URL(start.location);
    expect(`${to.origin}${to.pathname}`).toBe(`https://tunnel.example.com${SIGN_IN_PATH}`);
    expect(to.searchParams.get('session')).toBe(SESSION);
    expect(to.searchParams.get('return')).toBe('/a?b=1');
    const secret = start.setCookie.slice(BIND_COOKIE.length + 1, start.setCookie.indexOf(';'));
    expect(to.searchParams.get('bind')).toBe(digest(secret));
    // The browser keeps its secret across sign-ins (two tabs at once), never sent in a URL.
    const again = gate.check(req(`${SIGN_IN_PATH}?return=%2F&switch=1`, { cookie: `${BIND_COOKIE}=${secret}` }), SESSION, session) as { location: string };
    expect(new URL(again.location).searchParams.get('bind')).toBe(digest(secret));
    expect(new URL(again.location).searchParams.get('switch')).toBe('1');
    expect(again.location).not.toContain(secret);
    expect(gate.check(req('/api'), SESSION, session).kind).toBe('required');
    expect(gate.check(req('/a', { 'sec-fetch-mode': 'navigate', 'x-wingman-via': 'sw' }), SESSION, session).kind).toBe('required');
  });

  it('grants an allowed email with its email, refuses another with a 403 naming it, and never takes another session’s cookie', () => {
    const cookie = (email: string, s = SESSION) => signed.sign('session', { e: email, s, x: nowS() + 60 });
    const bob = cookie('bob@team.example.com');
    expect(gate.check(withCookie(bob), SESSION, session)).toEqual({
      kind: 'granted',
      email: 'bob@team.example.com',
      until: signed.verify('session', bob)!.x * 1000,
    });
    expect(gate.check(withCookie(cookie('carol@elsewhere.org')), SESSION, session)).toMatchObject({ kind: 'forbidden', email: 'carol@elsewhere.org' });
    expect(gate.check(withCookie(cookie('alice@example.com', OTHER)), SESSION, session).kind).toBe('required');
    const identity = signed.sign('identity', { e: 'alice@example.com', x: nowS() + 60 });
    expect(gate.check(withCookie(identity), SESSION, session).kind).toBe('required');
  });

  it('takes a hand-off once, for its own session only, in the browser that started it, and sends the viewer back where it was going', () => {
    const secret = 'S'.repeat(43);
    const bound = { cookie: `${BIND_COOKIE}=${secret}` };
    const handOff = (s: string, n: string) =>
      `${SIGN_IN_PATH}?t=${encodeURIComponent(signed.sign('handoff', { e: 'alice@example.com', s, n, r: '/deep?x=1', b: digest(secret), x: nowS() + 60 }))}`;
    // Another browser (no secret, or another one): refused, and the hand-off stays unused for its own browser.
    expect(gate.check(req(handOff(SESSION, 'n1')), SESSION, session)).toEqual({ kind: 'bad-handoff', otherBrowser: true });
    expect(gate.check(req(handOff(SESSION, 'n1'), { cookie: `${BIND_COOKIE}=${'T'.repeat(43)}` }), SESSION, session)).toEqual({
      kind: 'bad-handoff',
      otherBrowser: true,
    });
    const first = gate.check(req(handOff(SESSION, 'n1'), bound), SESSION, session);
    expect(first).toMatchObject({ kind: 'handed-off', location: '/deep?x=1' });
    const setCookie = (first as { setCookie: string }).setCookie;
    expect(setCookie).toMatch(/^wingman_signin=[^;]+; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(gate.check(req(handOff(SESSION, 'n1'), bound), SESSION, session)).toEqual({ kind: 'bad-handoff', otherBrowser: false });
    expect(gate.check(req(handOff(OTHER, 'n2'), bound), SESSION, session)).toEqual({ kind: 'bad-handoff', otherBrowser: false });
    const cookieValue = setCookie.slice(`${SIGN_IN_COOKIE}=`.length, setCookie.indexOf(';'));
    expect(gate.check(withCookie(decodeURIComponent(cookieValue)), SESSION, session)).toMatchObject({ kind: 'granted', email: 'alice@example.com' });
  });

  it('sends a viewer back only to a path of the same origin', () => {
    for (const bad of ['https://evil.example/', '//evil.example/', '/\\evil.example', 'x', '', undefined, `/${'a'.repeat(3000)}`])
      expect(safeReturnPath(bad)).toBe('/');
    expect(safeReturnPath('/a/b?c=d')).toBe('/a/b?c=d');
  });
});
