/**
 * A page whose scripts aim at the dev server's own port: Hugo's live reload
 * connects to `ws://<page host>:1313/livereload` (its `livereload.js?port=`),
 * other scripts fetch `http://localhost:<port>/…`. Behind Wingman the page's
 * host is the session's, so neither reaches the developer unless the shim
 * carries them to the session (shim/app-port.ts). The WebSocket is checked
 * by the agent's request log: on this bench the app listens on loopback
 * beside the browser, and a socket that went straight to it would answer
 * too. In Chromium and Firefox; real processes.
 */
import { WEBRTC_ENGINES } from './helpers/engines';
import { useStackAndEngine } from './support/engine-stack';
import { inPage, openShell, type AnyFrame } from './support/shell';

jest.setTimeout(120_000);

describe.each(WEBRTC_ENGINES)('URLs the page builds from the app’s own port, in %s', (engine) => {
  const env = useStackAndEngine(engine);

  it('carries a WebSocket to <page host>:<app port> and a fetch() of localhost:<app port> to the session, and leaves other ports alone', async () => {
    // The page's script runs while it parses, before its shell's channel is up: over the relay or P2P, either is the session.
    const frame = await openShell<AnyFrame>(env.page, `${env.stack.origin}/port-page`, 'port-page');

    const fetched = await inPage(frame, () => (window as unknown as { portFetch: Promise<unknown> }).portFetch, undefined);
    expect(fetched).toEqual({ transport: expect.stringMatching(/^(p2p|relay)$/), query: { via: 'app-port' } });

    const socket = await inPage(frame, () => (window as unknown as { portWs: Promise<unknown> }).portWs, undefined);
    expect(socket).toEqual({ url: `${env.stack.origin.replace(/^http/, 'ws')}/ws?from=app-port` });
    // Through the agent, not straight to the app's port.
    await env.stack.agent.waitFor((e) => e.event === 'request' && e.target === '/ws?from=app-port', 10_000);
    // Another port is none of the app's: left to the browser, which refuses the cross-origin answer as without Wingman.
    const other = await inPage(frame, () => (window as unknown as { otherPortFetch: Promise<unknown> }).otherPortFetch, undefined);
    expect(other).toEqual({ error: 'TypeError' });
  });
});
