/**
 * Two sessions on one tunnel server, as a reviewer's HTTP client sees them:
 * real wingman-server and `wingman http` processes, a real express app per
 * session, and curl with its cookie engine (which honours Domain as
 * browsers do) talking to `<id>.wingman.test` through --connect-to.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { killAll, startAgent, startServer } from '../helpers/processes';

jest.setTimeout(60_000);

/** A domain outside the Public Suffix List, so curl applies a Domain cookie to sibling hosts. */
const DOMAIN = 'wingman.test';

interface App {
  port: number;
  server: Server;
}

/** An express app named `name` that tosses a cookie to the whole tunnel domain and redirects the way express apps do. */
function startApp(name: string): Promise<App> {
  const app = express();
  app.get('/toss', (_req, res) => {
    res.cookie('tossed', name, { domain: DOMAIN, path: '/' });
    res.cookie('own', name, { path: '/', httpOnly: true });
    res.send('tossed');
  });
  app.get('/cookies', (req, res) => res.json({ app: name, cookie: req.headers.cookie ?? null }));
  // An absolute redirect built from the request, as many apps and examples do.
  app.get('/old', (req, res) => res.redirect(`${req.protocol}://${req.get('host')}/login`));
  app.get('/meta-refresh', (req, res) => res.set('refresh', `0; url=${req.protocol}://${req.get('host')}/login`).send('moved'));
  app.get('/login', (_req, res) => res.send(`login page of ${name}`));
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server }));
  });
}

let apps: App[] = [];
let jarDir: string;
let serverPort: number;
let hosts: { a: string; b: string };

/** Runs curl against the tunnel server (every host name connects to it), with the test's cookie jar. Output: `-D -` headers then body. */
function curl(args: string[]): Promise<string> {
  const jar = join(jarDir, 'jar.txt');
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-sS', '--max-time', '10', '--connect-to', `::127.0.0.1:${serverPort}`, '-b', jar, '-c', jar, ...args],
      { timeout: 15_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`curl ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

beforeEach(async () => {
  jarDir = mkdtempSync(join(tmpdir(), 'wingman-jar-'));
  apps = [await startApp('A'), await startApp('B')];
  const { port } = await startServer({ WINGMAN_DOMAIN_PUBLIC_SUFFIX: '1' }, ['--domain', DOMAIN]);
  serverPort = port;
  const a = await startAgent(`http://127.0.0.1:${port}`, String(apps[0]!.port));
  const b = await startAgent(`http://127.0.0.1:${port}`, String(apps[1]!.port));
  hosts = { a: new URL(a.url).hostname, b: new URL(b.url).hostname };
});

afterEach(async () => {
  await killAll();
  await Promise.all(apps.map((a) => new Promise((r) => a.server.close(r))));
  rmSync(jarDir, { recursive: true, force: true });
});

describe('sessions on one tunnel server', () => {
  it("never hand one session's Domain cookie to another session's app", async () => {
    const tossed = await curl(['-D', '-', `http://${hosts.a}/toss`]);
    expect(tossed).toMatch(/^set-cookie: tossed=A; Path=\/\r$/im);
    expect(tossed).not.toMatch(/domain=/i);
    expect(JSON.parse(await curl([`http://${hosts.b}/cookies`]))).toEqual({ app: 'B', cookie: null });
    // Host-only, the cookies still work for the session that set them.
    expect(JSON.parse(await curl([`http://${hosts.a}/cookies`]))).toEqual({ app: 'A', cookie: expect.stringMatching(/^(?=.*tossed=A)(?=.*own=A)/) });
  });

  it("turns an express redirect to the app's own address into one to the session, which curl can follow", async () => {
    const head = await curl(['-D', '-', '-o', '/dev/null', `http://${hosts.a}/old`]);
    expect(head).toMatch(new RegExp(`^location: http://${hosts.a}/login\\r$`, 'im'));
    expect(await curl(['-L', '--max-redirs', '2', `http://${hosts.a}/old`])).toBe('login page of A');
  });

  it("turns a Refresh to the app's own address into one to the session", async () => {
    const head = await curl(['-D', '-', '-o', '/dev/null', `http://${hosts.b}/meta-refresh`]);
    expect(head).toMatch(new RegExp(`^refresh: 0; url=http://${hosts.b}/login\\r$`, 'im'));
  });
});
