/**
 * The mirror of script-visible cookies into the browser's jar: a Cookie
 * Store whose set() stores nothing (WebKitGTK) is found out by its first
 * write and the shell's document.cookie takes over; a working one is used
 * alone; a cookie is marked mirrored only once it is seen in the browser's jar.
 */
import { CookieJar } from '../../src/shared/cookie-jar';
import { cookieLine, createCookieMirror } from '../../src/sw/cookie-mirror';
import type { CookieStoreLike } from '../../src/sw/cookie-store';

const HOST = 'abc.localhost';
const NOW = Date.UTC(2030, 0, 1);

/** A browser jar behind a Cookie Store whose writes land (`writes` true) or vanish (WebKitGTK). */
function browserJar(writes: boolean) {
  const jar = new Map<string, string>();
  const store: CookieStoreLike = {
    getAll: () => Promise.resolve([...jar].map(([name, value]) => ({ name, value }))),
    set: (c) => (writes && jar.set(c.name, c.value), Promise.resolve()),
    delete: (c) => (writes && jar.delete(c.name), Promise.resolve()),
  };
  /** What document.cookie assignments in a shell do to the jar. */
  const page = jest.fn((lines: string[]) => {
    for (const line of lines) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (/expires=Thu, 01 Jan 1970/.test(line)) jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return Promise.resolve(true);
  });
  return { jar, store, page };
}

function applied(jar: CookieJar, fields: string[]) {
  return fields.map((f) => jar.applySetCookie(f, '/', NOW)!);
}

describe('the cookie mirror', () => {
  it('writes through the shell when the Cookie Store stores nothing, and marks only what landed', async () => {
    const b = browserJar(false);
    const jar = new CookieJar(HOST);
    const mirror = createCookieMirror(b.store, b.page, false);
    await mirror(jar, applied(jar, ['theme=dark; Path=/; Max-Age=60', 'sid=1; Path=/; HttpOnly']));
    expect(b.page).toHaveBeenCalledWith([`theme=dark; path=/; expires=${new Date(NOW + 60_000).toUTCString()}; samesite=lax`]);
    expect([...b.jar]).toEqual([['theme', 'dark']]);
    expect(jar.unmirroredHeader('/', NOW)).toBe('sid=1');
    // Known broken from now on: the next cookie goes to the shell at once.
    await mirror(jar, applied(jar, ['seen=1; Path=/']));
    expect(b.page).toHaveBeenCalledTimes(2);
    expect(jar.unmirroredHeader('/', NOW)).toBe('sid=1');
  });

  it('keeps a cookie in relayed requests when no shell writes it', async () => {
    const b = browserJar(false);
    const jar = new CookieJar(HOST);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await createCookieMirror(b.store, () => Promise.resolve(false), false)(jar, applied(jar, ['csrftoken=abc; Path=/']));
    } finally {
      warn.mockRestore();
    }
    expect(jar.unmirroredHeader('/', NOW)).toBe('csrftoken=abc');
  });

  it('uses a Cookie Store whose writes land and never asks the shell', async () => {
    const b = browserJar(true);
    const jar = new CookieJar(HOST);
    await createCookieMirror(b.store, b.page, false)(jar, applied(jar, ['theme=dark; Path=/']));
    expect(b.page).not.toHaveBeenCalled();
    expect([...b.jar]).toEqual([['theme', 'dark']]);
    expect(jar.unmirroredHeader('/', NOW)).toBe('');
  });

  it('writes the attributes document.cookie needs; Secure only on an https origin', () => {
    const c = { name: 'a', value: 'b', path: '/x', httpOnly: false, secure: true, sameSite: 'strict' as const, created: NOW };
    expect(cookieLine(c, 'set', false)).toBe('a=b; path=/x; samesite=strict');
    expect(cookieLine(c, 'set', true)).toBe('a=b; path=/x; samesite=strict; secure');
    expect(cookieLine(c, 'delete', true)).toBe('a=; path=/x; expires=Thu, 01 Jan 1970 00:00:00 GMT');
  });
});
