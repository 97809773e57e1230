/**
 * The mirror of the SW jar's script-visible cookies into the browser's own jar, so the app's scripts see
 * them in document.cookie and relayed requests carry them: with the Cookie Store API, its first writes read
 * back (WebKitGTK's set() resolves and stores nothing), else by a shell window's document.cookie
 * (PageCookieWriter). A cookie is marked mirrored only once seen in the browser's jar (or when that cannot
 * be checked: a path other than "/"), so what did not land keeps going with relayed requests.
 */
import type { Cookie, CookieChange, CookieJar } from '../shared/cookie-jar';
import { bounded, lost, type CookieStoreLike } from './cookie-store';

/** Writes `document.cookie` assignments in a shell window of this origin; resolves false when no shell answered. */
export type PageCookieWriter = (lines: string[]) => Promise<boolean>;

/** The `document.cookie` assignment that sets (or, `kind` delete, removes) `c`. */
export function cookieLine(c: Cookie, kind: CookieChange['kind'], secureOrigin: boolean): string {
  if (kind === 'delete') return `${c.name}=; path=${c.path}; expires=Thu, 01 Jan 1970 00:00:00 GMT`;
  const expires = c.expires !== undefined ? `; expires=${new Date(c.expires).toUTCString()}` : '';
  // Secure only where the page itself is https (a browser may refuse it on http://*.localhost).
  const secure = c.secure && secureOrigin ? '; secure' : '';
  return `${c.name}=${c.value}; path=${c.path}${expires}; samesite=${c.sameSite}${secure}`;
}

/** Whether the Cookie Store API's writes land: learnt from the first write whose result can be read back. */
type StoreWrites = 'unknown' | 'works' | 'broken';

/** Returns the mirror: it mirrors the script-visible part of `changes` and marks in `jar` what landed. */
export function createCookieMirror(
  cookieStore: CookieStoreLike | undefined,
  writeInPage: PageCookieWriter | undefined,
  secureOrigin: boolean,
): (jar: CookieJar, changes: CookieChange[]) => Promise<void> {
  let storeWrites: StoreWrites = cookieStore ? 'unknown' : 'broken';

  /**
   * Which of `sets` the browser's jar holds now: true / false, or undefined
   * where that cannot be told (path other than "/": getAll() answers for the
   * scope "/"; or no Cookie Store to read).
   */
  async function landed(sets: Cookie[]): Promise<Map<Cookie, boolean | undefined>> {
    const items = cookieStore && sets.some((c) => c.path === '/') ? await bounded(cookieStore.getAll()).catch(() => undefined) : undefined;
    const held = (c: Cookie) => (items && c.path === '/' ? items.some((i) => i?.name === c.name && i.value === c.value) : undefined);
    return new Map(sets.map((c) => [c, held(c)]));
  }

  async function viaStore(changes: CookieChange[]): Promise<CookieChange[]> {
    const written: CookieChange[] = [];
    for (const ch of changes) {
      const c = ch.cookie;
      try {
        if (ch.kind === 'delete') await bounded(cookieStore!.delete({ name: c.name, path: c.path }));
        else await bounded(cookieStore!.set({ name: c.name, value: c.value, path: c.path, expires: c.expires ?? null, sameSite: c.sameSite }));
        written.push(ch);
      } catch (err) {
        // Cookie Store refused it (e.g. attributes it does not support): the
        // app's JS will not see it, requests still carry it.
        lost(
          `cookie ${c.name} (path ${c.path}) could not be ${ch.kind === 'delete' ? 'deleted from' : 'mirrored into'} the browser's jar; the app's scripts see a stale document.cookie`,
          err,
        );
      }
    }
    return written;
  }

  return async (jar, changes) => {
    // HttpOnly cookies never reach the browser's jar (JS must not see them).
    const visible = changes.filter((ch) => !ch.cookie.httpOnly);
    if (visible.length === 0) return;
    if (storeWrites !== 'broken') {
      const written = await viaStore(visible);
      if (storeWrites === 'works') {
        for (const ch of written) if (ch.kind === 'set') jar.markMirrored(ch.cookie.name, ch.cookie.path, ch.cookie.value);
        return;
      }
      const sets = written.filter((ch) => ch.kind === 'set').map((ch) => ch.cookie);
      const seen = await landed(sets);
      if ([...seen.values()].includes(false)) storeWrites = 'broken';
      else {
        if ([...seen.values()].includes(true)) storeWrites = 'works';
        for (const c of sets) jar.markMirrored(c.name, c.path, c.value);
        return;
      }
    }
    // The Cookie Store does not write here: a shell writes them with document.cookie.
    const ok = writeInPage ? await writeInPage(visible.map((ch) => cookieLine(ch.cookie, ch.kind, secureOrigin))) : false;
    if (!ok) {
      lost("no shell window wrote the app's cookies into the browser's jar; the app's scripts see a stale document.cookie", 'no shell answered');
      return;
    }
    // The sets that landed (or cannot be checked) are marked; those seen missing are said.
    const sets = visible.filter((ch) => ch.kind === 'set').map((ch) => ch.cookie);
    const seen = await landed(sets);
    for (const c of sets) {
      if (seen.get(c) !== false) jar.markMirrored(c.name, c.path, c.value);
      else lost(`cookie ${c.name} (path ${c.path}) was not kept by the browser's jar; the app's scripts do not see it`, 'document.cookie refused it');
    }
  };
}
