/**
 * The terminal view's screen: what it shows, cut to the terminal's size,
 * and the view's bookkeeping of viewers and requests (drawn on dispose,
 * which redraws at once).
 */
import { renderScreen, type ScreenState } from '../../src/cli/terminal-screen';
import { createTerminalView } from '../../src/cli/terminal-view';
import { createRequestStore } from '../../src/inspector/store';
import type { Capture } from '../../src/forward';
import type { ReadyEvent } from '../../src/agent';

const NOW = Date.UTC(2030, 0, 2, 3, 4, 5);

const state = (over: Partial<ScreenState> = {}): ScreenState => ({
  url: 'http://abc.localhost:8080/',
  target: 'http://localhost:3000',
  inspector: 'http://127.0.0.1:4040',
  p2p: 'on',
  viewers: [],
  requests: [],
  problems: [],
  ...over,
});

const request = (i: number) => ({ at: NOW - 1000 + i, method: 'GET', path: `/item/${i}`, status: 200, ms: i, transport: 'relay' });

describe('terminal screen', () => {
  it('shows the URL, target, P2P state, inspector, viewers with transport and RTT, requests and problems', () => {
    const lines = renderScreen(
      state({
        viewers: [{ id: 'viewer-1234567890', transport: 'p2p', rttMs: 12, since: NOW - 65_000 }],
        requests: [request(1), { ...request(2), status: 0, error: 'ERR_APP_UNREACHABLE' }],
        problems: [{ at: NOW, level: 'warning', message: 'nothing listening on localhost:3000 yet' }],
      }),
      { columns: 200, rows: 40 },
      NOW,
    ).join('\n');
    expect(lines).toContain('http://abc.localhost:8080/');
    expect(lines).toContain('forwarding to http://localhost:3000 (peer-to-peer when possible, relay otherwise)');
    expect(lines).toContain('inspect requests at http://127.0.0.1:4040');
    expect(lines).toMatch(/Viewers \(1\)\n\s+viewer-12345678\s+p2p\s+12 ms\s+since \d\d:\d\d:\d\d \(1m05s\)/);
    expect(lines).toMatch(/GET\s+\/item\/1\s+200\s+1 ms\s+relay/);
    expect(lines).toMatch(/GET\s+\/item\/2\s+ERR_APP_UNREACHABLE\s+2 ms/);
    expect(lines).toMatch(/warning: nothing listening on localhost:3000 yet/);
  });

  it('cuts every line to the width and keeps the newest requests that fit the height', () => {
    const requests = Array.from({ length: 50 }, (_, i) => request(i));
    const lines = renderScreen(state({ requests }), { columns: 30, rows: 20 }, NOW);
    expect(lines.length).toBeLessThanOrEqual(19);
    for (const l of lines) expect(Array.from(l).length).toBeLessThanOrEqual(30);
    expect(lines.some((l) => l.includes('/item/49'))).toBe(true);
    expect(lines.some((l) => l.includes('/item/0 '))).toBe(false);
  });

  it('leaves the QR code out when the terminal is too short for it and a few requests', () => {
    const qr = Array.from({ length: 15 }, () => '█▀▀▀▀▀█').join('\n');
    expect(renderScreen(state({ qr }), { columns: 80, rows: 50 }, NOW).join('\n')).toContain('█▀▀▀▀▀█');
    expect(renderScreen(state({ qr }), { columns: 80, rows: 24 }, NOW).join('\n')).not.toContain('█▀▀▀▀▀█');
  });
});

const ready: ReadyEvent = {
  url: 'http://abc.localhost:8080/',
  sessionId: 'abc',
  resumed: false,
  linkKey: 'AAAAAAAAAAAAAAAAAAAAAA',
  p2p: true,
  p2pSettings: { enabled: true, timeoutMs: 5000, iceServers: [] },
  access: 'link',
};

const capture = (over: Partial<Capture>): Capture => ({
  method: 'GET',
  target: '/',
  status: 200,
  startedAt: NOW,
  durationMs: 3,
  transport: 'relay',
  requestHeaders: [],
  responseHeaders: [],
  requestBody: { data: Buffer.alloc(0), size: 0, truncated: false },
  responseBody: { data: Buffer.alloc(0), size: 0, truncated: false },
  ...over,
});

describe('terminal view', () => {
  function view() {
    let out = '';
    const v = createTerminalView({
      stdout: { write: (s: string) => (out += s), columns: 120, rows: 40 },
      target: 'http://localhost:3000',
      qr: false,
      now: () => NOW,
    });
    /** The text after the last "home" escape: the last screen drawn. */
    const screen = () => out.slice(out.lastIndexOf('\x1b[H')).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    return { v, out: () => out, screen };
  }

  it('says relay only, not peer-to-peer, for a plain-http link on a public name, and peer-to-peer for https', () => {
    const plain = view();
    plain.v.ready({ ...ready, url: 'http://abc.tunnel.example.com/' }, 'http://localhost:3000');
    plain.v.dispose();
    expect(plain.screen()).toContain('forwarding to http://localhost:3000 (relay: browsers go peer-to-peer on https:// links (or *.localhost) only)');
    expect(plain.screen()).not.toContain('peer-to-peer when possible');
    const secure = view();
    secure.v.ready({ ...ready, url: 'https://abc.tunnel.example.com/' }, 'http://localhost:3000');
    secure.v.dispose();
    expect(secure.screen()).toContain('forwarding to http://localhost:3000 (peer-to-peer when possible, relay otherwise)');
  });

  it('lists requests and relay viewers from the inspector store, P2P viewers from peer reports, and shows the cursor again on dispose', () => {
    const { v, out, screen } = view();
    expect(out()).toContain('\x1b[?25l');
    const store = createRequestStore(10);
    v.attachStore(store);
    v.ready(ready, 'http://localhost:3000', 'http://127.0.0.1:4040');
    store.add(capture({ target: '/from-store', viewer: '192.0.2.7' }));
    // The forwarder's own log line is not a second copy when the store feeds the view.
    v.request({ method: 'GET', target: '/from-store', status: 200, ms: 3, transport: 'relay' });
    v.peer({ viewerId: 'p2p-viewer-1', state: 'connected', rttMs: 9 });
    v.peer({ viewerId: 'p2p-viewer-2', state: 'connected' });
    v.peer({ viewerId: 'p2p-viewer-3', state: 'connected' });
    // The P2P host's pings update the RTT; an unknown viewer's is ignored.
    v.rtt('p2p-viewer-3', 4.4);
    v.rtt('not-a-viewer', 1);
    v.peer({ viewerId: 'p2p-viewer-2', state: 'closed', reason: 'idle' });
    v.warning('WARN_TARGET_DOWN', 'nothing listening on localhost:3000 yet');
    v.dispose();
    const s = screen();
    expect(s.split('/from-store').length - 1).toBe(1);
    expect(s).toMatch(/Viewers \(3\)/);
    expect(s).toMatch(/p2p-viewer-3\s+p2p\s+4 ms/);
    expect(s).not.toContain('not-a-viewer');
    expect(s).toMatch(/192\.0\.2\.7\s+relay\s+-/);
    expect(s).toMatch(/p2p-viewer-1\s+p2p\s+9 ms/);
    expect(s).not.toContain('p2p-viewer-2');
    expect(s).toContain('warning: nothing listening on localhost:3000 yet');
    expect(s).toContain('Tunnel closed.');
    expect(out().endsWith('\x1b[?25h')).toBe(true);
  });

  it('names the viewer whose app runs its own Service Worker, and marks its line', () => {
    const { v, screen } = view();
    const store = createRequestStore(10);
    v.attachStore(store);
    v.ready(ready, 'http://localhost:3000');
    const visitor = '0123456789abcdef0123456789abcdef';
    store.add(capture({ target: '/', viewer: visitor }));
    v.warning('WARN_VIEWER_OWN_SW', 'viewer 01234567: its app registered its own Service Worker (/sw.js)', { viewer: visitor });
    v.dispose();
    expect(screen()).toMatch(/01234567\S*\s+relay\s+-\s+since .*\(own Service Worker\)/);
    expect(screen()).toContain('warning: viewer 01234567: its app registered its own Service Worker (/sw.js)');
  });

  it('files the same URL back as news, a new URL and errors as problems, and the end at --expires as news', () => {
    const { v, screen } = view();
    v.ready({ ...ready, private: true }, 'http://localhost:3000');
    v.ready({ ...ready, private: true, resumed: true }, 'http://localhost:3000');
    v.fatal('ERR_SESSION_EXPIRED', 'the session expired (--expires): the link no longer works');
    v.dispose();
    const s = screen();
    expect(s).toContain('private: the server relays nothing');
    expect(s).not.toMatch(/warning: reconnected/);
    expect(s).toContain('reconnected: http://');
    expect(s).not.toMatch(/error: the session expired/);
    expect(s).toContain('the session expired (--expires)');
  });

  it('takes requests from the forwarders when the inspector is off', () => {
    const { v, screen } = view();
    v.ready(ready, 'http://localhost:3000');
    v.request({ method: 'POST', target: '/no-inspector', status: 201, ms: 4, transport: 'p2p' });
    v.dispose();
    expect(screen()).toMatch(/POST\s+\/no-inspector\s+201\s+4 ms\s+p2p/);
  });
});
