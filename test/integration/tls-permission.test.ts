/**
 * The on-demand TLS permission check (`GET /__wingman/tls-ask?domain=<host>`,
 * what Caddy's `on_demand_tls { ask }` calls before it requests a
 * certificate), against the real tunnel server and agent: yes for the apex
 * and for a session's host while the session lives or waits for its agent,
 * no for every other name, so a scanner's random subdomains never reach the
 * certificate authority; an address that probes many names is throttled.
 */
import { randomBytes } from 'node:crypto';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { killAll, startAgent, startServer } from '../helpers/processes';
import { untilTrue } from '../helpers/viewer-client';

jest.setTimeout(60_000);

/** Short, so the test sees a session's grace period end. */
const GRACE_MS = 1_500;

let app: FixtureApp;

beforeEach(async () => {
  app = await startFixtureApp();
});

afterEach(async () => {
  await killAll();
  await app.close();
});

/** A random name shaped like a session id (26 base32 characters) that no session has. */
function unknownId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return Array.from(randomBytes(26), (b) => alphabet[b % 32]).join('');
}

describe('the on-demand TLS permission check', () => {
  it('says yes for the apex and a live or waiting session host, no for any other name, asked on the server address', async () => {
    const { port, url } = await startServer({ SESSION_GRACE_MS: String(GRACE_MS) });
    const apex = new URL(url).hostname;
    const ask = async (domain: string | undefined) => {
      const reply = await send(port, `127.0.0.1:${port}`, { path: `/__wingman/tls-ask${domain === undefined ? '' : `?domain=${encodeURIComponent(domain)}`}` });
      return { status: reply.status, body: JSON.parse(reply.body.toString()) as unknown };
    };
    const { agent, sessionId } = await startAgent(url, String(app.port), {}, ['--new-session']);
    const host = `${sessionId}.${apex}`;

    expect(await ask(apex)).toEqual({ status: 200, body: { ok: true, reason: 'apex' } });
    expect(await ask(host)).toEqual({ status: 200, body: { ok: true, reason: 'session' } });
    expect(await ask(host.toUpperCase())).toMatchObject({ status: 200 });
    for (const other of [`${unknownId()}.${apex}`, `www.${apex}`, `a.${host}`, 'example.org', `${sessionId}.example.org`])
      expect({ other, ...(await ask(other)) }).toMatchObject({ other, status: 404 });
    expect(await ask(undefined)).toEqual({ status: 400, body: { error: 'ERR_BAD_REQUEST' } });
    expect(await ask(`${'a'.repeat(250)}.${apex}`)).toMatchObject({ status: 400 });

    // The agent gone: the session waits for it through its grace period (still yes), then ends (no).
    await agent.kill('SIGKILL');
    expect(await ask(host)).toMatchObject({ status: 200 });
    await untilTrue('the grace period to end', async () => (await ask(host)).status === 404, GRACE_MS + 10_000);
    expect(await ask(host)).toEqual({ status: 404, body: { error: 'ERR_NO_SUCH_SESSION' } });
  });

  it('throttles an address that probes names, not another address nor the terminator on loopback', async () => {
    // Behind a trusted proxy, as when the apex is reachable from outside: each asker is its own address.
    const { port, url } = await startServer({ TRUST_PROXY: '1' });
    const apex = new URL(url).hostname;
    const askFor = (headers: Record<string, string>) => send(port, `127.0.0.1:${port}`, { path: `/__wingman/tls-ask?domain=${unknownId()}.${apex}`, headers });
    const ask = async (headers: Record<string, string>) => (await askFor(headers)).status;
    const prober: number[] = [];
    let refused: Awaited<ReturnType<typeof askFor>> | undefined;
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      const r = await askFor({ 'x-forwarded-for': '203.0.113.7' });
      prober.push(r.status);
      if (r.status === 429) refused ??= r;
    }
    const elapsedS = (Date.now() - started) / 1000;
    // 64 at once, then 16 a second (routing/tls-permission.ts): the rest is refused, however long the asks took.
    expect(prober.slice(0, 64)).toEqual(Array<number>(64).fill(404));
    expect(prober.filter((s) => s === 404).length).toBeLessThanOrEqual(64 + Math.ceil(16 * elapsedS));
    expect(prober.filter((s) => s !== 404 && s !== 429)).toEqual([]);
    // A refusal as the prober got it (an ask made after the loop could find a token refilled meanwhile, 1/16 s on).
    expect(refused?.status).toBe(429);
    expect(refused?.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused?.body.toString() ?? '{}')).toMatchObject({ error: 'ERR_TOO_MANY' });
    // Another address, and the terminator on loopback (no forwarded address), are answered.
    expect(await ask({ 'x-forwarded-for': '198.51.100.9' })).toBe(404);
    const terminator: number[] = [];
    for (let i = 0; i < 200; i++) terminator.push(await ask({}));
    expect(terminator).toEqual(Array<number>(200).fill(404));
  });

  it('is not served on session hosts, where the path belongs to the app', async () => {
    const { port, url } = await startServer();
    const { sessionId } = await startAgent(url, String(app.port), {}, ['--new-session']);
    const reply = await send(port, `${sessionId}.${new URL(url).host}`, { path: `/__wingman/tls-ask?domain=${sessionId}.localhost` });
    expect(reply.status).not.toBe(200);
  });
});
