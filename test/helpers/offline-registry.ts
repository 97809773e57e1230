/**
 * A package registry on loopback for install tests, serving only what the
 * repository's package-lock.json pins, with tarballs taken from the local npm
 * cache (`npm pack --offline <name>@<version>`: the cache `npm ci` filled).
 * The test suite runs with no network, and `npm install` of a tarball asks a
 * registry for its dependencies' full metadata, which `npm ci` never caches;
 * this registry answers those requests so the install is the one a user gets
 * from npmjs.org: same resolution, nested node_modules, platform packages.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `npm pack --offline` of one cached tarball; seconds are plenty, a hang must not stall the install. */
const PACK_TIMEOUT_MS = 60_000;

export interface OfflineRegistry {
  /** `http://127.0.0.1:<port>/`, for `npm --registry`. */
  url: string;
  close(): Promise<void>;
}

interface LockEntry {
  version: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  os?: string[];
  cpu?: string[];
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  license?: string;
}

/** The lockfile's entries by package name (every copy, hoisted or nested). */
function lockEntriesByName(lockFile: string): Map<string, LockEntry[]> {
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { packages: Record<string, LockEntry & { link?: boolean }> };
  const byName = new Map<string, LockEntry[]>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const at = path.lastIndexOf('node_modules/');
    if (at < 0 || entry.link || !entry.version) continue;
    const name = path.slice(at + 'node_modules/'.length);
    const list = byName.get(name) ?? [];
    if (!list.some((e) => e.version === entry.version)) list.push(entry);
    byName.set(name, list);
  }
  return byName;
}

function packFromCache(spec: string, dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('npm', ['pack', '--offline', '--silent', '--pack-destination', dir, spec], { timeout: PACK_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`npm pack --offline ${spec}: ${stderr || err.message}`));
      resolve(join(dir, stdout.trim().split('\n').pop()!));
    });
  });
}

export async function startOfflineRegistry(lockFile: string): Promise<OfflineRegistry> {
  const entries = lockEntriesByName(lockFile);
  const dir = mkdtempSync(join(tmpdir(), 'wingman-registry-'));
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    // Tarballs: /<name>/-/<version>.tgz (our own URL shape).
    const tarball = /^(.+)\/-\/(.+)\.tgz$/.exec(path);
    if (tarball) {
      packFromCache(`${tarball[1]}@${tarball[2]}`, dir).then(
        (file) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file)),
        (err: Error) => res.writeHead(404, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      );
      return;
    }
    const list = entries.get(path);
    if (!list) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    const versions = Object.fromEntries(
      list.map((e) => {
        const { integrity, version, ...fields } = e;
        return [version, { name: path, version, ...fields, dist: { tarball: `${base}${path}/-/${version}.tgz`, integrity } }];
      }),
    );
    const latest = list
      .map((e) => e.version)
      .sort()
      .pop()!;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: path, 'dist-tags': { latest }, versions }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
