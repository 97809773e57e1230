/**
 * The app in a full-viewport same-origin frame, with the shell's address bar and title kept in step. The
 * frame's navigations are entries of the tab's joint session history (Back/Forward move the frame); the shell
 * only mirrors its URL with history.replaceState, so reloads and deep links load the shell at that URL.
 */
import { quietly } from '../shared/quietly';

/** The shell's own query parameters, removed from the URL the app sees. */
export function appPath(url: URL, ownParams: readonly string[]): string {
  const u = new URL(url.href);
  for (const p of ownParams) u.searchParams.delete(p);
  return `${u.pathname}${u.search}${u.hash}`;
}

export function createAppFrame(iframe: HTMLIFrameElement) {
  let lastTitle = '';
  const sync = () => {
    let loc: Location;
    let doc: Document | null;
    try {
      loc = iframe.contentWindow!.location;
      doc = iframe.contentDocument;
      // Reading a cross-origin frame's location throws; about:blank (inheriting our origin) has no app URL.
      if (loc.origin !== location.origin || loc.protocol === 'about:') return;
    } catch {
      return;
    }
    const path = `${loc.pathname}${loc.search}${loc.hash}`;
    // A URL replaceState refuses leaves the bar as it is.
    if (path !== `${location.pathname}${location.search}${location.hash}`) quietly(() => history.replaceState(history.state, '', path));
    const title = doc?.title ?? '';
    if (title !== lastTitle) {
      lastTitle = title;
      document.title = title || location.host;
    }
  };
  iframe.addEventListener('load', sync);
  // The shell's inline script may have loaded the app before this ran.
  if (iframe.contentDocument?.readyState === 'complete') sync();
  return {
    element: iframe,
    /** Loads the app at a same-origin path (first load). */
    load(path: string): void {
      // The shell's inline script already started it (SW in control at parse time).
      if (iframe.getAttribute('src')) return;
      // Setting src on a fresh frame replaces its initial about:blank: no history entry.
      iframe.src = path;
    },
    /** Mirrors the frame's current URL and title into the shell (after loads and SPA navigations). */
    sync,
  };
}
