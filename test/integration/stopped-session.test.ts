/**
 * A link whose developer stopped sharing says so: within the grace period
 * the reviewer gets the "reconnecting" page, after it a page saying the
 * developer stopped sharing, which keeps retrying — and the same link works
 * again once the developer runs `wingman http` again. A link that never
 * existed is still "no such session".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { killAll, startAgent, startServer } from '../helpers/processes';
import { until } from '../helpers/wait';

jest.setTimeout(60_000);

/** The server's grace period in this test, ms: short, so the session is dropped within the test. */
const GRACE_MS = 500;

let app: FixtureApp;
let stateDir: string;

beforeEach(async () => {
  app = await startFixtureApp();
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-stopped-'));
});

afterEach(async () => {
  await killAll();
  await app.close();
  rmSync(stateDir, { recursive: true, force: true });
});

it('tells a reviewer the developer stopped sharing, retries, and serves the same link again when the agent is back', async () => {
  const { port, url: serverUrl } = await startServer({ SESSION_GRACE_MS: String(GRACE_MS) });
  const first = await startAgent(serverUrl, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--no-p2p']);
  const host = new URL(first.url).host;
  expect((await send(port, host, { path: '/hello' })).status).toBe(200);

  await first.agent.kill('SIGINT');
  const stopped = await until(
    async () => {
      const r = await send(port, host, { path: '/hello' });
      return r.status === 503 ? r : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 100, what: 'the stopped-sharing page' },
  );
  expect(stopped.headers['retry-after']).toBe('2');
  expect(stopped.headers['x-wingman-error'] ?? stopped.body.toString()).toContain('ERR_SESSION_STOPPED');
  expect(stopped.body.toString()).toContain('The developer stopped sharing');
  expect(stopped.body.toString()).toContain('<meta http-equiv="refresh"');

  const again = await startAgent(serverUrl, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--no-p2p']);
  expect(again.url).toBe(first.url);
  const back = await send(port, host, { path: '/hello' });
  expect(back.status).toBe(200);
  expect(back.body.toString()).toBe('hello GET');
});

it('still says "no such session" for a link that never existed here', async () => {
  const { port } = await startServer({ SESSION_GRACE_MS: String(GRACE_MS) });
  const r = await send(port, `${'a'.repeat(26)}.localhost:${port}`, { path: '/' });
  expect(r.status).toBe(404);
  expect(r.body.toString()).toContain('No such Wingman session');
});
