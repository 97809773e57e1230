/**
 * docs/deploy.md's main path for real, in network namespaces
 * (scripts/lab/caddy-on-demand.mjs): the doc's own commands start
 * `wingman-server` and `wingman http 3000`, Debian's Caddy runs
 * deploy/Caddyfile (on-demand TLS asking the server's permission check)
 * against Debian's pebble as the ACME CA, and a reviewer's Chromium that
 * trusts pebble's root through its NSS database (the doc's certutil
 * command) opens the link. The expectations are written here, not read
 * back from the script: a new session's host gets its certificate on its
 * first visit, the page is a secure context that goes peer-to-peer, and
 * names that are no session never reach the CA.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_PATH, hasCommand, isRoot } from '../../scripts/lib/prereqs.mjs';
import { spawnProcess, type ManagedProcess } from '../../scripts/lib/spawn-ready.mjs';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts/lab/caddy-on-demand.mjs');
/** About 15 s here (two ACME orders, Chromium's first visit); generous for a loaded 2-core machine. */
const RUN_TIMEOUT_MS = 4 * 60_000;

interface Result {
  error: string | null;
  url: string;
  sessionHost: string;
  reviewer: {
    error: string | null;
    secureContext: boolean;
    transport: string | null;
    p2pVerdict: string | null;
    /** The shell's logged P2P errors when the verdict is not `p2p`: why. */
    p2pErrors?: Array<{ code: string; message: string }>;
    checks: Record<string, boolean>;
  };
  probes: Array<{ name: string; curlExit: number | null; error: string }>;
  askAnswers: Record<string, number>;
  issuedBeforeVisit: string[];
  issued: string[];
  onDemandRequested: string[];
  pebbleOrders: number;
  pebbleIssued: number;
  namespacesLeft: string[];
}

/** Throws one message listing everything missing, each with its install command. */
function assertPrerequisites(): void {
  const problems: string[] = [];
  if (!isRoot()) problems.push('run as root: the lab creates network namespaces');
  for (const [bin, pkg] of [
    ['ip', 'iproute2'],
    ['caddy', 'caddy'],
    ['pebble', 'pebble'],
    ['pebble-challtestsrv', 'pebble'],
    ['certutil', 'libnss3-tools'],
    ['curl', 'curl'],
    ['openssl', 'openssl'],
    ['unshare', 'util-linux'],
  ]) {
    if (!hasCommand(bin!)) problems.push(`\`${bin}\` is missing: apt-get install ${pkg}`);
  }
  if (!existsSync(CHROMIUM_PATH)) problems.push(`${CHROMIUM_PATH} is missing: apt-get install chromium`);
  if (problems.length > 0) throw new Error(`the Caddy lab cannot run:\n  - ${problems.join('\n  - ')}`);
}

let run: ManagedProcess | undefined;
let result: Result;

beforeAll(async () => {
  assertPrerequisites();
  run = spawnProcess({ name: 'caddy-lab', command: process.execPath, args: [SCRIPT], cwd: ROOT, ownProcessGroup: false, stopGraceMs: 15_000 });
  await run.waitForExit({ timeoutMs: RUN_TIMEOUT_MS, what: 'the Caddy lab to finish' });
  const line = run.stdoutLines().pop() ?? '';
  try {
    result = JSON.parse(line) as Result;
  } catch {
    throw new Error(`the Caddy lab printed no result; its log:\n${run.stderr().slice(-4000)}`);
  }
}, RUN_TIMEOUT_MS + 30_000);

afterAll(async () => {
  await run?.stop();
}, 30_000);

describe('docs/deploy.md main path: wildcard DNS, Caddy with on-demand TLS, wingman-server (pebble as the CA)', () => {
  it("runs the doc's commands to a link, and removes its namespaces", () => {
    expect({ error: result.error, log: result.error ? run?.stderr().slice(-3000) : '' }).toEqual({ error: null, log: '' });
    expect(result.url).toMatch(/^https:\/\/[a-z2-7]{26}\.tunnel\.example\.com\/$/);
    expect(result.namespacesLeft).toEqual([]);
  });

  it("gets the session host its certificate on the reviewer's first visit, and the reviewer's Chromium loads it over HTTPS and goes peer-to-peer", () => {
    // Before the visit only the apex had one (the agent's own connection asked for it).
    expect(result.issuedBeforeVisit).toEqual(['tunnel.example.com']);
    expect(result.issued).toEqual(['tunnel.example.com', result.sessionHost]);
    const r = result.reviewer;
    const verdict = r.p2pVerdict === 'p2p' ? 'p2p' : `${r.p2pVerdict} ${JSON.stringify(r.p2pErrors ?? [])}`;
    expect({ error: r.error, secureContext: r.secureContext, verdict, checks: r.checks }).toEqual({
      error: null,
      secureContext: true,
      verdict: 'p2p',
      checks: { appLoaded: true, download: true, downloadTransport: true, smallRequests: true, smallTransport: true },
    });
    expect(['host', 'srflx']).toContain(r.transport);
  });

  it('asks the CA for nothing else: names that are no session get no certificate request at all', () => {
    for (const probe of result.probes) expect({ name: probe.name, handshakeFailed: probe.curlExit !== 0 }).toEqual({ name: probe.name, handshakeFailed: true });
    expect(result.askAnswers).toEqual({
      'tunnel.example.com': 200,
      [result.sessionHost]: 200,
      'scanner-probe.tunnel.example.com': 404,
      'aaaaaaaaaaaaaaaaaaaaaaaaaa.tunnel.example.com': 404,
    });
    // Caddy started an issuance for the apex and the session host only; pebble saw two orders and issued two certificates.
    expect(result.onDemandRequested).toEqual(['tunnel.example.com', result.sessionHost]);
    expect({ orders: result.pebbleOrders, issued: result.pebbleIssued }).toEqual({ orders: 2, issued: 2 });
  });
});
