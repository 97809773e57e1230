/**
 * The app registered a Service Worker of its own (the shim reports it): it would replace Wingman's (same
 * scope), and a PWA must be reviewed with its own worker. So Wingman steps aside for this browser: the tunnel
 * server is told (OWN_SW_PATH: from now on its navigations get the app itself, over the relay), Wingman's
 * worker is unregistered, and the app's page is loaded at the top level, where its registration runs natively.
 */
import { OWN_SW_PATH, SW_SCOPE } from '@wingman/protocol';
import { OWN_SW_WINDOW_KEY } from '../shared/constants';
import { quietly } from '../shared/quietly';

/** Bound on the POST to OWN_SW_PATH (one round trip to the tunnel server). */
const OWN_SW_REQUEST_TIMEOUT_MS = 10_000;

/** Why this browser goes over the relay from now on (the badge, until the page is replaced). */
export const OWN_SW_REASON = 'the app runs its own Service Worker';

/** Steps aside and loads `appUrl` at the top level; rejects (nothing changed) when the tunnel server did not agree. */
export async function stepAside(script: string, appUrl: string): Promise<void> {
  console.info(`[wingman] The app registers its own Service Worker (${script}): this browser is served the app itself, over the relay.`);
  const res = await fetch(`${OWN_SW_PATH}?script=${encodeURIComponent(script)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(OWN_SW_REQUEST_TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`the tunnel server answered ${res.status}`);
  const registration = await navigator.serviceWorker?.getRegistration(SW_SCOPE);
  await registration?.unregister();
  location.replace(appUrl);
}

/** The worker URL an app document registered before the shell's script listened (OWN_SW_WINDOW_KEY on its window), if any. */
export function ownSwRequestedIn(win: Window | null | undefined): string | undefined {
  // Reading a cross-origin document in the frame throws.
  const v = quietly(() => (win as unknown as Record<string, unknown> | null | undefined)?.[OWN_SW_WINDOW_KEY]);
  return typeof v === 'string' ? v : undefined;
}
