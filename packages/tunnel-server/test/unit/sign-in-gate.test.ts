/**
 * The sign-in gate's decisions on a session origin (access/sign-in-gate.ts)
 * and its signed values (access/sign-in-tokens.ts): what passes, what is sent
 * to sign in, what is refused, and that a value made for one use or session
 * is never accepted for another. The flow with a real identity provider is
 * test/integration/sign-in.test.ts.
 */
import type { IncomingMessage } from 'node:http';
import { createSignInGate, safeReturnPath, SIGN_IN_PATH } from '../../src/access/sign-in-gate';
import { createSignedValues, SIGN_IN_COOKIE } from '../../src/access/sign-in-tokens';
import type { Session } from '../../src/sessions/registry';

const KEY = new Uint8Array(32).fill(7);
const SESSION = 'abcdefghijklmnopqrstuvwxyz';
const OTHER = 'zyxwvutsrqponmlkjihgfedcba';
const signed = createSignedValues(KEY);
const gate = createSignInGate({ signed, publicUrl: 'https://tunnel.example.com', secureCookie: true });
const session = { id: SESSION, allowEmails: ['alice@example.com', '*@team.example.com'] } as unknown as Session;
const nowS = () => Math.floor(Date.now() / 1000);

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

  it("sends a browser's navigation to the apex's sign-in, and answers anything else 401", () => {
    const nav = gate.check(req('/a?b=1', { 'sec-fetch-mode': 'navigate' }), SESSION, session);
    expect(nav).toEqual({ kind: 'sign-in', location: `https://tunnel.example.com${SIGN_IN_PATH}?session=${SESSION}&return=${encodeURIComponent('/a?b=1')}` });
    expect(gate.check(req('/api'), SESSION, session).kind).toBe('required');
    expect(gate.check(req('/a', { 'sec-fetch-mode': 'navigate', 'x-wingman-via': 'sw' }), SESSION, session).kind).toBe('required');
  });

  it('grants an allowed email with its email, refuses another with a 403 naming it, and never takes another session’s cookie', () => {
    const cookie = (email: string, s = SESSION) => signed.sign('session', { e: email, s, x: nowS() + 60 });
    expect(gate.check(withCookie(cookie('bob@team.example.com')), SESSION, session)).toEqual({ kind: 'granted', email: 'bob@team.example.com' });
    expect(gate.check(withCookie(cookie('carol@elsewhere.org')), SESSION, session)).toMatchObject({ kind: 'forbidden', email: 'carol@elsewhere.org' });
    expect(gate.check(withCookie(cookie('alice@example.com', OTHER)), SESSION, session).kind).toBe('required');
    const identity = signed.sign('identity', { e: 'alice@example.com', x: nowS() + 60 });
    expect(gate.check(withCookie(identity), SESSION, session).kind).toBe('required');
  });

  it('takes a hand-off once, for its own session only, and sends the viewer back where it was going', () => {
    const handOff = (s: string, n: string) =>
      `${SIGN_IN_PATH}?t=${encodeURIComponent(signed.sign('handoff', { e: 'alice@example.com', s, n, r: '/deep?x=1', x: nowS() + 60 }))}`;
    const first = gate.check(req(handOff(SESSION, 'n1')), SESSION, session);
    expect(first).toMatchObject({ kind: 'handed-off', location: '/deep?x=1' });
    const setCookie = (first as { setCookie: string }).setCookie;
    expect(setCookie).toMatch(/^wingman_signin=[^;]+; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(gate.check(req(handOff(SESSION, 'n1')), SESSION, session).kind).toBe('bad-handoff');
    expect(gate.check(req(handOff(OTHER, 'n2')), SESSION, session).kind).toBe('bad-handoff');
    const cookieValue = setCookie.slice(`${SIGN_IN_COOKIE}=`.length, setCookie.indexOf(';'));
    expect(gate.check(withCookie(decodeURIComponent(cookieValue)), SESSION, session)).toEqual({ kind: 'granted', email: 'alice@example.com' });
  });

  it('sends a viewer back only to a path of the same origin', () => {
    for (const bad of ['https://evil.example/', '//evil.example/', '/\\evil.example', 'x', '', undefined, `/${'a'.repeat(3000)}`])
      expect(safeReturnPath(bad)).toBe('/');
    expect(safeReturnPath('/a/b?c=d')).toBe('/a/b?c=d');
  });
});
