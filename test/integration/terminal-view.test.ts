/**
 * `wingman http` on a real terminal: the built bin inside a detached tmux
 * pane (a real pty), a real tunnel server and a local app on loopback; the
 * screen is read back with `tmux capture-pane`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROWSER_P2P_WORDS } from '../../packages/relay-server/src/cli/browser-p2p';
import { CookieBrowser } from '../helpers/cookie-browser';
import { send } from '../helpers/http-client';
import { startProvider } from '../helpers/oidc-provider';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { freePort } from '../helpers/ports';
import { AGENT_BIN, killAll, startServer } from '../helpers/processes';
import { until } from '../helpers/wait';
import { inspectorApi, untilTrue, viewerCookieOf } from '../helpers/viewer-client';

jest.setTimeout(60_000);

/** Longest wait for the screen to show something, ms. */
const SCREEN_WAIT_MS = 20_000;
const POLL_MS = 100;

const socket = `wingman-term-test-${process.pid}`;
let app: Server;
let appPort: number;
let serverUrl: string;
let serverPort: number;
let stateDir: string;

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', timeout: 5_000 });
const screen = () => tmux('capture-pane', '-p', '-t', 'w');
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Starts the agent in a fresh tmux pane of `columns` x 40; the shell prints its exit code when it ends. */
function startInTmux(extraArgs: string[] = [], columns = 120): void {
  const argv = [process.execPath, AGENT_BIN, 'http', String(appPort), '--server', serverUrl, '--inspect', '0', ...extraArgs].map(shellQuote).join(' ');
  // --public (as test/helpers/processes.ts starts agents): the test's requests name the session by its host.
  const command = `WINGMAN_PUBLIC=1 WINGMAN_STATE_DIR=${shellQuote(stateDir)} ${argv}; echo "wingman exit code: $?"; sleep 60`;
  tmux('new-session', '-d', '-s', 'w', '-x', String(columns), '-y', '40', command);
}

/** Polls the pane (tmux announces nothing) until `pred` holds; the last screen is in the error when it never does. */
async function waitForScreen(pred: (text: string) => boolean, what: string): Promise<string> {
  let text = '';
  return until(
    () => {
      text = screen();
      return pred(text) ? text : undefined;
    },
    { timeoutMs: SCREEN_WAIT_MS, intervalMs: POLL_MS, what, observe: () => `screen:\n${text}` },
  );
}

const sessionUrlOf = (text: string) => /http:\/\/[a-z0-9-]+\.localhost:\d+\/?/.exec(text)?.[0];

beforeEach(async () => {
  app = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello ${req.url}`);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appPort = (app.address() as AddressInfo).port;
  const s = await startServer();
  serverUrl = s.url;
  serverPort = s.port;
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-term-test-'));
});

afterEach(async () => {
  try {
    await closeViewerProcesses();
  } finally {
    try {
      tmux('kill-server');
    } catch {
      /* no server left: the test did not start one */
    }
    await killAll();
    await new Promise<void>((r) => app.close(() => r()));
    rmSync(stateDir, { recursive: true, force: true });
  }
});

describe('wingman http on a terminal', () => {
  it('draws one screen with the URL, then a relayed request with its time, status and transport, and exits 0 on Ctrl+C leaving the screen and the cursor', async () => {
    startInTmux();
    const first = await waitForScreen((t) => sessionUrlOf(t) !== undefined && /Viewers \(0\)/.test(t), 'the URL and the viewers section');
    expect(first).toMatch(/inspect requests at http:\/\/127\.0\.0\.1:\d+/);
    expect(first).toMatch(/Requests\n\s+none yet/);
    const url = new URL(sessionUrlOf(first)!);

    const reply = await send(serverPort, url.host, { path: '/through-the-relay' });
    expect(reply.status).toBe(200);
    const after = await waitForScreen((t) => /\d\d:\d\d:\d\d GET\s+\/through-the-relay\s+200\s+\d+ ms\s+relay/.test(t), 'the request line');
    // One screen redrawn in place: the URL is shown once, not once per event.
    expect(after.split(url.host).length - 1).toBe(1);
    expect(after).toMatch(/Viewers \(1\)\n\s+127\.0\.0\.1\s+relay/);
    expect(tmux('display-message', '-p', '-t', 'w', '#{cursor_flag}').trim()).toBe('0');

    tmux('send-keys', '-t', 'w', 'C-c');
    const last = await waitForScreen((t) => /wingman exit code: \d+/.test(t), 'the exit');
    expect(last).toMatch(/wingman exit code: 0/);
    expect(last).toContain(url.host);
    expect(last).toMatch(/GET\s+\/through-the-relay\s+200/);
    expect(tmux('display-message', '-p', '-t', 'w', '#{cursor_flag}').trim()).toBe('1');
  });

  it('names a signed-in viewer by its email on its line, on the relay and then P2P (--allow-email)', async () => {
    const port = await freePort();
    const provider = await startProvider(`http://localhost:${port}/__wingman/sign-in/callback`);
    const withSignIn = await startServer({ OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: provider.clientId, OIDC_CLIENT_SECRET: provider.clientSecret }, [
      '--port',
      String(port),
    ]);
    serverUrl = withSignIn.url;
    startInTmux(['--allow-email', 'alice@example.com']);
    const first = await waitForScreen((t) => sessionUrlOf(t) !== undefined && /Viewers \(0\)/.test(t), 'the URL and the viewers section');
    const origin = new URL(sessionUrlOf(first)!).origin;

    const browser = new CookieBrowser();
    await provider.nextLogin('alice@example.com');
    expect((await browser.navigate(`${origin}/hello`)).at(-1)!.status).toBe(200);
    // A navigation gets the shell; a relayed request makes the viewer one the screen lists.
    expect((await browser.fetch(`${origin}/relayed`)).status).toBe(200);
    await waitForScreen((t) => /Viewers \(1\)\n\s+127\.0\.0\.1\s+relay .*alice@example\.com/.test(t), 'the relay viewer with its email');

    await connectViewerProcess({ url: `${origin}/`, cookie: browser.cookieHeader(new URL(origin))!, timeoutMs: 20_000 });
    await waitForScreen((t) => /Viewers \(1\)\n\s+[0-9a-f]{15}\s+p2p .*alice@example\.com/.test(t), 'the P2P viewer with its email');
  });

  it('lists viewers waiting under --approve by number, admits the one selected with its number and the a key, and still stops on Ctrl+C', async () => {
    startInTmux(['--approve']);
    const first = await waitForScreen((t) => sessionUrlOf(t) !== undefined && t.includes('a admit it · d refuse it'), 'the URL and the key help');
    const url = new URL(sessionUrlOf(first)!);
    // Someone else arrives first, from another address: the reviewer is number 2.
    const other = await send(serverPort, url.host, { path: '/me-first', headers: { 'user-agent': 'Other/9.9' }, localAddress: '127.0.0.2' });
    expect(other.status).toBe(403);
    const otherId = viewerCookieOf(other)!.slice('wingman_viewer='.length, 'wingman_viewer='.length + 8);
    const held = await send(serverPort, url.host, { path: '/let-me-in', headers: { 'user-agent': 'Reviewer/1.0' } });
    expect(held.status).toBe(403);
    const cookie = viewerCookieOf(held)!;
    const shortId = cookie.slice('wingman_viewer='.length, 'wingman_viewer='.length + 8);
    await waitForScreen(
      (t) =>
        /Waiting to be let in \(2\)/.test(t) && t.includes(`>1 ${otherId} 127.0.0.2`) && t.includes(`2 ${shortId} 127.0.0.1`) && t.includes('Reviewer/1.0'),
      'the waiting viewers, numbered',
    );

    tmux('send-keys', '-t', 'w', '2');
    await waitForScreen((t) => t.includes(`>2 ${shortId} 127.0.0.1`), 'the reviewer selected');
    tmux('send-keys', '-t', 'w', 'a');
    await waitForScreen((t) => t.includes(`admitting viewer ${shortId}`), 'the admission');
    await untilTrue(
      'the viewer admitted',
      async () => (await send(serverPort, url.host, { path: '/let-me-in', headers: { cookie, 'user-agent': 'Reviewer/1.0' } })).status === 200,
    );
    const after = await waitForScreen((t) => /GET\s+\/let-me-in\s+200/.test(t) && /Waiting to be let in \(1\)/.test(t), 'the admitted request');
    expect(after).toMatch(new RegExp(`Viewers \\(1\\)\\n\\s+127\\.0\\.0\\.1\\s+relay.*${shortId}`));
    expect(after).toContain(`>1 ${otherId} 127.0.0.2`);

    tmux('send-keys', '-t', 'w', 'C-c');
    const last = await waitForScreen((t) => /wingman exit code: \d+/.test(t), 'the exit');
    expect(last).toMatch(/wingman exit code: 0/);
  });

  it('cuts lines to the terminal width and redraws when the terminal is resized', async () => {
    startInTmux();
    const first = await waitForScreen((t) => sessionUrlOf(t) !== undefined, 'the URL');
    const url = new URL(sessionUrlOf(first)!);
    const longPath = `/${'a'.repeat(150)}`;
    expect((await send(serverPort, url.host, { path: longPath })).status).toBe(200);
    await waitForScreen((t) => t.includes('GET     /aaaa'), 'the request line');

    tmux('resize-window', '-t', 'w', '-x', '50', '-y', '40');
    const narrow = await waitForScreen((t) => t.split('\n').some((l) => /^\s+\d\d:\d\d:\d\d GET\s+\/a+…$/.test(l)), 'the request line cut to 50 columns');
    // A cut line never wraps: no row holds only the rest of the path.
    expect(narrow.split('\n').filter((l) => /^a+/.test(l))).toEqual([]);
    expect(narrow).toContain('Requests');
  });

  it('lists a P2P viewer with its transport and round-trip time, and its requests with transport p2p', async () => {
    startInTmux();
    const first = await waitForScreen((t) => sessionUrlOf(t) !== undefined && t.includes(`(${BROWSER_P2P_WORDS.on})`), 'the URL with P2P on');
    const url = new URL(sessionUrlOf(first)!);
    const v = await connectViewerProcess({ url: url.href, timeoutMs: 20_000 });
    const r = await v.request({ method: 'GET', target: '/over-p2p', headers: [['host', url.host]] });
    expect(r.status).toBe(200);
    // Listed under the viewer's one id (its visitor id, as the inspector names it), not its P2P channel's.
    const inspector = Number(/inspect requests at http:\/\/127\.0\.0\.1:(\d+)/.exec(first)![1]);
    const { json } = await inspectorApi(inspector, '/api/viewers');
    expect(json.viewers).toHaveLength(1);
    // The RTT comes from the P2P host's pings, the first one a few seconds after the channel opened.
    const shortId = String(json.viewers[0].id).slice(0, 15);
    // The request row arrives on its own path (the P2P host's capture over IPC): wait for both.
    const p2pRequest = /GET\s+\/over-p2p\s+200\s+\d+ ms\s+p2p/;
    const after = await waitForScreen(
      (t) => new RegExp(`\\s${shortId}\\s+p2p\\s+\\d+ ms\\s+since`).test(t) && p2pRequest.test(t),
      'the P2P viewer with an RTT and its request',
    );
    expect(after).toMatch(p2pRequest);
  });

  it("shows a fatal error in the screen's errors and exits with its code", async () => {
    startInTmux(['--token', 'not-the-token']);
    const last = await waitForScreen((t) => /wingman exit code: \d+/.test(t), 'the exit');
    expect(last).toMatch(/Errors and warnings\n(.*\n)*\s+\d\d:\d\d:\d\d error: the tunnel server refused the token/);
    expect(last).toMatch(/wingman exit code: 5/);
    expect(tmux('display-message', '-p', '-t', 'w', '#{cursor_flag}').trim()).toBe('1');
  });

  it('prints the plain lines on a terminal with --no-tui', async () => {
    startInTmux(['--no-tui']);
    const first = await waitForScreen((t) => t.includes('Wingman: share this link') && sessionUrlOf(t) !== undefined, 'the banner');
    const url = new URL(sessionUrlOf(first)!);
    expect((await send(serverPort, url.host, { path: '/plain' })).status).toBe(200);
    const after = await waitForScreen((t) => /^GET\s+\/plain\s+200\s+\d+ ms\s+relay$/m.test(t), 'the plain request line');
    expect(after).not.toContain('Viewers (');
    tmux('send-keys', '-t', 'w', 'C-c');
    await waitForScreen((t) => /wingman exit code: 0/.test(t), 'the exit');
  });
});
