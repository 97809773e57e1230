/**
 * The app document's ties to its shell and to the Service Worker:
 *  - tells the SW which shell this document belongs to (`wingman:frame`),
 *    again whenever a restarted SW asks (`wingman:sync`);
 *  - reports SPA navigations (pushState/replaceState/popstate/hashchange)
 *    and title changes to the shell, which mirrors them in the address bar;
 *  - when the app registers a Service Worker of its own, asks the shell to
 *    step aside (page/own-service-worker.ts) rather than let it replace
 *    Wingman's, whose scope it shares.
 */
import { OWN_SW_WINDOW_KEY } from '../shared/constants';
import type { FrameAnnounce, LocationUpdate, OwnServiceWorker } from '../shared/messages';
import { parseUrl } from '../shared/baseline';

export function linkFrame(shell: Window, shellId: string, isAppRoot: boolean): void {
  const sw = navigator.serviceWorker;
  if (sw) {
    const announce = () => sw.controller?.postMessage({ type: 'wingman:frame', shellId } satisfies FrameAnnounce);
    announce();
    sw.addEventListener('message', (ev: MessageEvent) => {
      if ((ev.data as { type?: unknown } | null)?.type === 'wingman:sync') announce();
    });
    sw.startMessages();
    // The app's own Service Worker would replace Wingman's (same scope): Wingman steps aside for
    // this browser instead. The shell reloads the page served by the app itself, where this
    // registration runs again, natively; until then the promise stays pending.
    sw.register = (scriptURL: string | URL) => {
      // For a shell whose script has not run yet (its message listener is not there): it looks here.
      Object.defineProperty(window, OWN_SW_WINDOW_KEY, { value: String(scriptURL), configurable: true });
      shell.postMessage({ type: 'wingman:own-sw', script: String(scriptURL) } satisfies OwnServiceWorker, location.origin);
      return new Promise<ServiceWorkerRegistration>(() => undefined);
    };
  }
  if (!isAppRoot) return;

  let last = '';
  const report = () => {
    const update: LocationUpdate = { type: 'wingman:location', href: location.href, title: document.title };
    const key = `${update.href}\n${update.title}`;
    if (key === last) return;
    last = key;
    shell.postMessage(update, location.origin);
  };
  for (const name of ['pushState', 'replaceState'] as const) {
    const original = history[name];
    history[name] = function (this: History, ...args: Parameters<History['pushState']>) {
      const r = original.apply(this, args);
      queueMicrotask(report);
      return r;
    };
  }
  addEventListener('popstate', report);
  addEventListener('hashchange', report);
  const watchTitle = () => {
    const head = document.head;
    if (head) new MutationObserver(report).observe(head, { subtree: true, childList: true, characterData: true });
    report();
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', watchTitle, { once: true });
  else watchTitle();

  // A link to another site would load it inside the frame (where it may refuse
  // to be framed): open it at the top level instead, as it would open without Wingman.
  document.addEventListener(
    'click',
    (ev) => {
      const a = (ev.target as Element | null)?.closest?.('a[href]') as HTMLAnchorElement | null;
      if (!a || ev.defaultPrevented || (a.target && a.target !== '_self')) return;
      const url = parseUrl(a.href);
      if (url && url.origin !== location.origin) a.target = '_top';
    },
    true,
  );
}
