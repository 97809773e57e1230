/**
 * The browser client in WebKit (WebKitGTK through WebKitWebDriver): no
 * RTCPeerConnection, so the shell says so and every app request takes the
 * Service Worker's relay path. What the Chromium and Firefox suites check
 * over P2P, checked here over that path: a download and an upload hash the
 * same bytes, a WebSocket through the shim, a redirect, in-app navigation.
 */
import { patternSha256 } from './support/app';
import { download, upload, websocketEcho } from './support/in-app';
import { fetchInApp, inPage, openShell, waitForApp, waitForTransport } from './support/shell';
import { useStackWithWebKit } from './support/webkit-stack';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;

describe('WebKit on the Service Worker relay path', () => {
  const env = useStackWithWebKit();

  it('says why it is on the relay and serves the app’s fetch() calls through the Service Worker', async () => {
    const frame = await openShell(env.webkit.page, `${env.stack.origin}/one`, 'one');
    const status = await waitForTransport(env.webkit.page, 'relay', /WebRTC/);
    expect(status.reason).toBe('no WebRTC in this browser');
    const r = await fetchInApp(frame, '/api/hello?via=relay');
    expect(r.transport).toBe('relay');
    expect(JSON.parse(r.text)).toMatchObject({ hello: 'world', query: { via: 'relay' } });
    // The app's page runs under Wingman's worker with the shim (its WebSocket is the shim's).
    expect(await inPage(frame, () => (window as unknown as { wsIsShim?: boolean }).wsIsShim === true, undefined)).toBe(true);
  });

  it('downloads 2 MiB and uploads 1 MiB with the SHA-256 the other side computed', async () => {
    const frame = await waitForApp(env.webkit.page, 'one');
    expect(await download(frame, 2 * MiB)).toEqual({ sha: patternSha256(2 * MiB), bytes: 2 * MiB, transport: 'relay' });
    const up = await upload(frame, MiB);
    expect(up.remote).toEqual({ sha: up.localSha, length: MiB });
  });

  it('echoes a WebSocket through the shim over the relay', async () => {
    const frame = await waitForApp(env.webkit.page, 'one');
    const r = await websocketEcho(frame);
    expect(r.hello).toMatchObject({ protocol: 'chat' });
    expect(r.echo).toBe('ping');
    expect(r.binary).toEqual([1, 2, 3]);
    expect(r.closeCode).toBe(1000);
  });

  it('follows a redirect of a fetch() and of a frame navigation', async () => {
    const frame = await waitForApp(env.webkit.page, 'one');
    const r = await fetchInApp(frame, '/redirect');
    // (Response.redirected stays false through a Service Worker: docs/browser-client.md, Known limitations.)
    expect(r).toMatchObject({ status: 200, url: `${env.stack.origin}/api/hello?from=redirect` });
    expect(JSON.parse(r.text)).toMatchObject({ query: { from: 'redirect' } });
    await openShell(env.webkit.page, `${env.stack.origin}/nav-redirect`, 'two');
    const two = await waitForApp(env.webkit.page, 'two');
    expect(await inPage(two, () => location.pathname + location.search, undefined)).toBe('/two?from=redirect');
  });
});
