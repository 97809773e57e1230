/**
 * The README's quick start, `npm start` (scripts/quickstart.mjs, after the
 * build `npm test` has already made): a tunnel server, the demo app and an
 * agent, a printed link that carries its key (`#k=`) and alone opens the demo app,
 * one human line per request and no raw JSON, and Ctrl-C stopping it all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LINK_TOKEN_HEADER, splitLinkKey } from '@wingman/protocol';
import { linkTokenOf } from '../../packages/relay-server/src/agent/link-verifier';
import { spawnProcess, type ManagedProcess } from '../../scripts/lib/spawn-ready.mjs';
import { send } from '../helpers/http-client';

jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '../..');
const LINK = /➜ {2}Open: {2}(\S+)/;

let quickstart: ManagedProcess | undefined;
let stateDir: string;

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-quickstart-'));
});

afterAll(async () => {
  await quickstart?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('prints a link with its key that serves the demo app, a human line per request, and stops on Ctrl-C', async () => {
    quickstart = spawnProcess({
      name: 'quickstart',
      command: process.execPath,
      args: [join(ROOT, 'scripts/quickstart.mjs'), '--server-port', '0'],
      cwd: ROOT,
      env: { ...process.env, WINGMAN_STATE_DIR: stateDir },
    });
    const line = await quickstart.waitForLine(LINK, { timeoutMs: 30_000, stream: 'stdout' }, 'the banner with the link');
    const link = new URL(LINK.exec(line)![1]!);
    expect(link.hash).toMatch(/^#k=[A-Za-z0-9_-]{22}$/);
    expect(link.hostname).toMatch(/^[a-z0-9]+\.localhost$/);

    // The link is the credential: the host alone opens nothing, the link's token does.
    expect((await send(Number(link.port), link.host, { path: '/api/hello' })).status).toBe(403);
    const token = linkTokenOf(splitLinkKey(link.hash).key!);
    const reply = await send(Number(link.port), link.host, { path: '/api/hello', headers: { [LINK_TOKEN_HEADER]: token } });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body.toString()).message).toBe('hello from the demo app');
    await quickstart.waitForLine(/^GET +\/api\/hello +200 /, { timeoutMs: 10_000, stream: 'stdout' }, 'the request line');

    await quickstart.stop({ signal: 'SIGINT' });
    expect(await quickstart.waitForExit({ timeoutMs: 10_000 })).toEqual({ code: 0, signal: null });
    const raw = quickstart.stdoutLines().filter((l) => /^\s*agent: \{/.test(l) || /^\s*\{"event"/.test(l));
    expect(raw).toEqual([]);
  });
});
