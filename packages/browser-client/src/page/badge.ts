/**
 * The status badge, in the shell (never inside the app's frame): "P2P · verified · 3 ms"
 * or "Relay · <reason>". Small, bottom-right, in a shadow root so nothing
 * leaks either way. The reviewer hides it with its close button (remembered
 * in localStorage); `?wingman-badge=0` hides it for this visit. Its
 * "diagnostics" link opens DIAGNOSTICS_PATH in a new tab.
 */
import { DIAGNOSTICS_PATH } from '@wingman/protocol';
import { BADGE_HIDDEN_KEY } from '../shared/constants';
import type { PathsUpdate } from '../shared/messages';
import type { TransportStatus } from './p2p';
import { quietly } from '../shared/quietly';

/** Which path each request class takes while P2P is up (the SW's path choice). */
export type Paths = Omit<PathsUpdate, 'type'>;

export function badgeText(s: TransportStatus, paths?: Paths): string {
  if (s.transport !== 'p2p') return `Relay · ${s.reason}`;
  const head = s.verified ? 'P2P · verified' : 'P2P · unverified';
  const text = s.rttMs === undefined ? head : `${head} · ${s.rttMs < 10 ? s.rttMs.toFixed(1) : Math.round(s.rttMs)} ms`;
  // The classes the relay carries because it measured faster for them.
  const viaRelay = paths ? (['small', 'bulk'] as const).filter((c) => paths[c] === 'relay') : [];
  return viaRelay.length === 0 ? text : `${text} · ${viaRelay.join(' + ')} via relay`;
}

const CSS = `
:host{all:initial;position:fixed;right:10px;bottom:10px;z-index:2147483647}
.b{display:flex;align-items:center;gap:6px;font:12px/18px system-ui,-apple-system,"Segoe UI",sans-serif;color:#fff;background:rgba(24,24,27,.82);border-radius:11px;padding:1px 3px 1px 9px;box-shadow:0 1px 4px rgba(0,0,0,.25);user-select:none}
.d{width:7px;height:7px;border-radius:50%;background:#f59e0b}
.p2p .d{background:#22c55e}
a{color:#d4d4d8;font-size:11px;text-decoration:none}
a:hover,a:focus-visible{color:#fff;text-decoration:underline}
button{all:unset;cursor:pointer;width:16px;height:16px;line-height:16px;text-align:center;border-radius:8px;color:#d4d4d8;font-size:13px}
button:hover,button:focus-visible{background:rgba(255,255,255,.18);color:#fff}`;

export function createBadge(show: boolean): { update(status: TransportStatus, paths?: Paths): void } {
  if (!show || quietly(() => localStorage.getItem(BADGE_HIDDEN_KEY)) === '1') return { update: () => undefined };
  const host = document.createElement('wingman-status');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<style>${CSS}</style><div class="b" role="status" aria-live="polite" title="Wingman: how this page reaches the shared app"><span class="d"></span><span class="t">Relay · connecting</span><a href="${DIAGNOSTICS_PATH}" target="_blank" rel="noopener" title="Connection details to send to the developer">diagnostics</a><button type="button" aria-label="Hide the Wingman status">×</button></div>`;
  const box = root.querySelector('.b') as HTMLElement;
  const text = root.querySelector('.t') as HTMLElement;
  (root.querySelector('button') as HTMLButtonElement).addEventListener('click', () => {
    host.remove();
    // Storage disabled: hidden for this page only.
    quietly(() => localStorage.setItem(BADGE_HIDDEN_KEY, '1'));
  });
  document.body.appendChild(host);
  return {
    update(s, paths) {
      box.className = s.transport === 'p2p' ? 'b p2p' : 'b';
      text.textContent = badgeText(s, paths);
      host.setAttribute('data-transport', s.transport);
      host.setAttribute('data-verified', s.transport === 'p2p' && s.verified ? '1' : '0');
    },
  };
}
