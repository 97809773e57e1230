/**
 * What `wingman http` prints when the session is ready: the inspector's URL
 * and the expiry, in the banner and in the `--json` ready line.
 */
import { createReporter } from '../../src/cli/reporter';
import type { ReadyEvent } from '../../src/agent';

const ready: ReadyEvent = {
  url: 'http://abc.localhost:8080/',
  sessionId: 'abc',
  resumed: false,
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
