/**
 * Outsiders' text on the developer's terminal: a viewer's User-Agent in the
 * waiting list and request targets in the request log reach it without their
 * control characters (C1 CSI U+009B and OSC U+009D, ESC, DEL, bidi
 * overrides), in the terminal view, the plain lines and the --json lines.
 */
import { createReporter } from '../../src/cli/reporter';
import { renderScreen } from '../../src/cli/terminal-screen';

/** Each kind of character a terminal would act on. */
const HOSTILE = 'Mozilla\u009b2J\u009d0;pwned\u0007\u001b[31m\u007f\u202e';
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function capture(json: boolean) {
  let out = '';
  const reporter = createReporter({ json, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) }, qr: false });
  return { reporter, out: () => out };
}

describe('printable terminal output', () => {
  it('shows a waiting viewer whose User-Agent carries control characters without them', () => {
    const lines = renderScreen(
      {
        url: 'http://abc.localhost:8080/',
        target: 'http://localhost:3000',
        viewers: [],
        requests: [{ at: 0, method: 'GET', path: `/x${HOSTILE}`, status: 200, ms: 1, transport: 'relay' }],
        problems: [],
        waiting: [{ id: 'viewer-1234', state: 'waiting', address: '203.0.113.7', userAgent: HOSTILE, firstSeenAt: 0 }],
      },
      { columns: 200, rows: 40 },
      0,
    );
    const text = lines.join('\n');
    expect(text).not.toMatch(CONTROLS);
    expect(text).toContain('Mozilla\ufffd2J\ufffd0;pwned');
  });

  it('prints request lines, P2P reasons and warnings without control characters', () => {
    const c = capture(false);
    c.reporter.request({ method: 'GET', target: `/a${HOSTILE}`, status: 200, ms: 3, transport: 'relay' });
    c.reporter.warning('WARN_TARGET_DOWN', `reason ${HOSTILE}`);
    // A stdout line: it flushes the request lines waiting before it.
    c.reporter.peer({ viewerId: 'abcdef12', state: 'failed', reason: HOSTILE });
    expect(c.out()).toContain('/aMozilla\ufffd2J');
    expect(c.out()).not.toMatch(CONTROLS);
  });

  it('escapes them in --json lines, which still parse to the same value', () => {
    const c = capture(true);
    c.reporter.request({ method: 'GET', target: `/a${HOSTILE}`, status: 200, ms: 3, transport: 'relay' });
    c.reporter.peer({ viewerId: 'abcdef12', state: 'failed', reason: HOSTILE });
    const lines = c.out().trim().split('\n');
    expect(c.out().replace(/\n/g, '')).not.toMatch(CONTROLS);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'request', target: `/a${HOSTILE}` });
  });
});
