/**
 * The app document's ties to its shell and to the Service Worker:
 *  - tells the SW which shell this document belongs to (`wingman:frame`),
 *    again whenever a restarted SW asks (`wingman:sync`);
 *  - reports SPA navigations (pushState/replaceState/popstate/hashchange)
 *    and title changes to the shell, which mirrors them in the address bar;
 *  - keeps the app from registering a Service Worker of its own over
 *    Wingman's (same scope: it would replace it and end P2P).
 */
import type { FrameAnnounce, LocationUpdate } from '../shared/messages';

export function linkFrame(shell: Window, shellId: string, isAppRoot: boolean): void {
  const sw = navigator.serviceWorker;
  if (sw) {
    const announce = () => sw.controller?.postMessage({ type: 'wingman:frame', shellId } satisfies FrameAnnounce);
    announce();
    sw.addEventListener('message', (ev: MessageEvent) => {
      if ((ev.data as { type?: unknown } | null)?.type === 'wingman:sync') announce();
    });
    sw.startMessages();
    const register = sw.register.bind(sw);
    sw.register = (scriptURL: string | URL) => {
      console.warn(
        `[wingman] The app's Service Worker (${String(scriptURL)}) is not registered: this page is shared through Wingman, whose own Service Worker carries its traffic.`,
      );
      void register;
      return Promise.reject(new DOMException('Service Workers of the shared app are disabled by Wingman', 'NotSupportedError'));
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
      try {
        if (new URL(a.href).origin !== location.origin) a.target = '_top';
      } catch {
        /* not a URL */
      }
    },
    true,
  );
}
