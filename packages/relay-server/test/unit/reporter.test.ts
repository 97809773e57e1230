/**
 * What `wingman http` prints: the inspector's URL and the expiry in the
 * banner and the `--json` ready line; request lines in batches, in order.
 */
import { createReporter } from '../../src/cli/reporter';
import { coalescedOutput, REQUEST_LOG_MAX_PENDING_CHARS } from '../../src/cli/coalesced-output';
import { until } from '../../../../test/helpers/wait';
import type { ReadyEvent } from '../../src/agent';

const ready: ReadyEvent = {
  url: 'http://abc.localhost:8080/',
  sessionId: 'abc',
  resumed: false,
  linkKey: 'AAAAAAAAAAAAAAAAAAAAAA',
  p2p: true,
  p2pSettings: { enabled: true, timeoutMs: 5000, iceServers: [] },
  access: 'link',
  expiresAt: Date.UTC(2030, 0, 2, 3, 4, 5),
};

function capture(json: boolean) {
  let out = '';
  const reporter = createReporter({ json, stdout: { write: (s: string) => (out += s) }, stderr: { write: () => undefined }, qr: false });
  return { reporter, out: () => out };
}

describe('what the banner says of access, and a session that reached its deadline', () => {
  function both() {
    let out = '';
    let err = '';
    const reporter = createReporter({ json: false, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, qr: false });
    return { reporter, out: () => out, err: () => err };
  }

  it('names the address rules and the proxy, without its password, in the banner and the ready line', () => {
    const extra = { addressRules: { allow: ['10.0.0.0/8'], deny: ['10.9.0.0/16'] }, proxy: 'http://alice:***@proxy:3128' };
    const c = both();
    c.reporter.ready({ ...ready, ...extra }, 'http://localhost:3000');
    expect(c.out()).toContain('only from 10.0.0.0/8; never from 10.9.0.0/16 (address rules)\n');
    expect(c.out()).toContain(
      'connected through the proxy http://alice:***@proxy:3128: signaling and the relay go through it, WebRTC does not (no TURN through a proxy): P2P only where WebRTC finds a way of its own (a viewer on this LAN, a network that lets UDP out), else viewers use the relay\n',
    );
    const relayOnly = both();
    relayOnly.reporter.ready({ ...ready, ...extra, p2p: false }, 'http://localhost:3000');
    expect(relayOnly.out()).toContain('connected through the proxy http://alice:***@proxy:3128: the relay goes through it\n');
    const denyOnly = both();
    denyOnly.reporter.ready({ ...ready, addressRules: { allow: [], deny: ['192.0.2.0/24'] } }, 'http://localhost:3000');
    expect(denyOnly.out()).toContain('from any address; never from 192.0.2.0/24 (address rules)');
    const json = capture(true);
    json.reporter.ready({ ...ready, ...extra }, 'http://localhost:3000');
    expect(JSON.parse(json.out())).toMatchObject(extra);
  });

  it('says a session is private, and that viewers need the password without naming a flag the developer may not have used', () => {
    const c = both();
    c.reporter.ready({ ...ready, private: true, access: 'password' }, 'http://localhost:3000');
    expect(c.out()).toContain('private: the server relays nothing');
    expect(c.out()).toContain('viewers need the password\n');
    expect(c.out()).not.toContain('(--password)');
    const open = both();
    open.reporter.ready(ready, 'http://localhost:3000');
    expect(open.out()).not.toContain('private');
  });

  it('prints the end at --expires as a normal end, not an error; other fatal errors stay errors', () => {
    const c = both();
    c.reporter.fatal('ERR_SESSION_EXPIRED', 'the session expired (--expires): the link no longer works');
    expect(c.out()).toBe('the session expired (--expires): the link no longer works\n');
    expect(c.err()).toBe('');
    c.reporter.fatal('ERR_X', 'stop');
    expect(c.err()).toBe('error: stop\n');
  });
});

describe('ready output', () => {
  it('names the inspector and the expiry in the banner', () => {
    const c = capture(false);
    c.reporter.ready(ready, 'http://localhost:3000', 'http://127.0.0.1:4040');
    expect(c.out()).toContain('inspect requests at http://127.0.0.1:4040\n');
    expect(c.out()).toContain(`expires at ${new Date(ready.expiresAt!).toLocaleString()}`);
  });

  it('carries them as "inspector" and "expiresAt" in the --json ready line, and leaves them out when absent', () => {
    const c = capture(true);
    c.reporter.ready(ready, 'http://localhost:3000', 'http://127.0.0.1:4041');
    expect(JSON.parse(c.out())).toMatchObject({ event: 'ready', inspector: 'http://127.0.0.1:4041', expiresAt: '2030-01-02T03:04:05.000Z' });
    const bare = capture(true);
    const { expiresAt: _, ...noExpiry } = ready;
    bare.reporter.ready(noExpiry, 'http://localhost:3000');
    expect(JSON.parse(bare.out())).not.toHaveProperty('inspector');
    expect(JSON.parse(bare.out())).not.toHaveProperty('expiresAt');
  });
});

describe('what the banner promises about P2P', () => {
  it.each([
    ['http://abc.localhost:8080/', 'peer-to-peer when possible, relay otherwise'],
    ['https://abc.tunnel.example.com/', 'peer-to-peer when possible, relay otherwise'],
    ['http://abc.tunnel.example.com/', 'relay: browsers go peer-to-peer on https:// links (or *.localhost) only'],
  ])('on %s: %s', (url, words) => {
    const c = capture(false);
    c.reporter.ready({ ...ready, url }, 'http://localhost:3000');
    expect(c.out()).toContain(`forwarding to http://localhost:3000 (${words})\n`);
  });

  it('says relay when the agent runs without P2P', () => {
    const c = capture(false);
    c.reporter.ready({ ...ready, url: 'https://abc.tunnel.example.com/', p2p: false }, 'http://localhost:3000');
    expect(c.out()).toContain('forwarding to http://localhost:3000 (relay)\n');
  });
});

describe('viewers of an --approve session', () => {
  const viewer = { id: 'abcdefgh12345678', state: 'waiting' as const, address: '192.0.2.7', userAgent: 'Reviewer/1.0', firstSeenAt: 0 };

  it('says so in the banner and in the --json ready line', () => {
    const human = capture(false);
    human.reporter.ready({ ...ready, viewers: 'approve' }, 'http://localhost:3000');
    expect(human.out()).toContain('    viewers wait until you admit them (--approve)\n');
    const json = capture(true);
    json.reporter.ready({ ...ready, viewers: 'approve' }, 'http://localhost:3000');
    expect(JSON.parse(json.out())).toMatchObject({ event: 'ready', viewers: 'approve' });
  });

  it('prints one line per change with the short id the inspector shows, and nothing for a link-only session', () => {
    const c = capture(false);
    c.reporter.ready({ ...ready, viewers: 'approve' }, 'http://localhost:3000');
    const before = c.out().length;
    c.reporter.viewer!(viewer, 'approve');
    c.reporter.viewer!({ ...viewer, state: 'admitted' }, 'approve');
    c.reporter.viewer!({ ...viewer, id: '2345678abcdefgh', state: 'admitted' }, 'open');
    expect(c.out().slice(before)).toBe('viewer abcdefgh from 192.0.2.7 waits to be let in (Reviewer/1.0)\nviewer abcdefgh admitted\n');
  });
});

describe('signed-in viewers in what the developer sees', () => {
  const signInReady: ReadyEvent = { ...ready, viewers: 'open', allowEmails: ['alice@example.com', '*@team.example.com'] };
  const viewer = {
    id: 'abcdefgh12345678',
    state: 'admitted' as const,
    address: '192.0.2.7',
    userAgent: 'Reviewer/1.0',
    firstSeenAt: 0,
    email: 'alice@example.com',
  };

  it('the banner names who may sign in; the log names each signed-in viewer, and the approve lines carry the email', () => {
    const c = capture(false);
    c.reporter.ready(signInReady, 'http://localhost:3000');
    expect(c.out()).toContain('    viewers sign in; only alice@example.com, *@team.example.com get in\n');
    const before = c.out().length;
    c.reporter.viewer!(viewer, 'open');
    c.reporter.viewer!({ ...viewer, email: undefined }, 'open');
    c.reporter.viewer!({ ...viewer, state: 'waiting' }, 'approve');
    expect(c.out().slice(before)).toBe(
      'viewer abcdefgh from 192.0.2.7 signed in as alice@example.com\nviewer abcdefgh (signed in as alice@example.com) from 192.0.2.7 waits to be let in (Reviewer/1.0)\n',
    );
  });

  it('--json carries allowEmails in ready and the email in viewer events', () => {
    const c = capture(true);
    c.reporter.ready(signInReady, 'http://localhost:3000');
    c.reporter.viewer!(viewer, 'open');
    const [first, second] = c
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ event: 'ready', allowEmails: ['alice@example.com', '*@team.example.com'] });
    expect(second).toEqual({ event: 'viewer', id: viewer.id, state: 'admitted', address: '192.0.2.7', userAgent: 'Reviewer/1.0', email: 'alice@example.com' });
  });
});

describe('request lines', () => {
  const entry = (target: string) => ({ method: 'GET', target, status: 200, ms: 1, transport: 'relay' as const });

  it('are written together in one write, after the lines before them and before any later line', async () => {
    const writes: string[] = [];
    const reporter = createReporter({ json: true, stdout: { write: (s: string) => writes.push(s) }, stderr: { write: () => undefined }, qr: false });
    reporter.ready(ready, 'http://localhost:3000');
    for (let i = 0; i < 5; i++) reporter.request(entry(`/r${i}`));
    expect(writes).toHaveLength(1);
    await until(() => writes.length === 2, { timeoutMs: 2000, what: 'the batched request lines' });
    expect(
      writes[1]!
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { target: string }).target),
    ).toEqual(['/r0', '/r1', '/r2', '/r3', '/r4']);
    reporter.request(entry('/last'));
    reporter.fatal('ERR_X', 'stop');
    expect(
      writes
        .slice(2)
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { event: string }).event),
    ).toEqual(['request', 'fatal']);
  });

  it('leave at once when many are waiting', () => {
    const writes: string[] = [];
    const out = coalescedOutput({ write: (s: string) => writes.push(s) }, 60_000);
    const line = 'x'.repeat(99) + '\n';
    for (let i = 0; i * line.length < REQUEST_LOG_MAX_PENDING_CHARS; i++) out.writeLater(line);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.length).toBeGreaterThanOrEqual(REQUEST_LOG_MAX_PENDING_CHARS);
    out.flush();
  });
});

describe('warnings', () => {
  it('carries the viewer a warning concerns as "viewer" in the --json line, and leaves it out otherwise', () => {
    const lines: string[] = [];
    const reporter = createReporter({ json: true, stdout: { write: () => undefined }, stderr: { write: (s: string) => lines.push(s) }, qr: false });
    const visitor = '0123456789abcdef0123456789abcdef';
    reporter.warning('WARN_VIEWER_OWN_SW', 'viewer 01234567: its app registered its own Service Worker (/sw.js)', { viewer: visitor });
    reporter.warning('WARN_TARGET_DOWN', 'nothing listening on localhost:3000 yet');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { event: 'warning', code: 'WARN_VIEWER_OWN_SW', message: 'viewer 01234567: its app registered its own Service Worker (/sw.js)', viewer: visitor },
      { event: 'warning', code: 'WARN_TARGET_DOWN', message: 'nothing listening on localhost:3000 yet' },
    ]);
  });
});
