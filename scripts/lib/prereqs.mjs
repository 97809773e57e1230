/**
 * Prerequisite checks for `npm test`: every missing piece is reported at once,
 * each with the command that installs it, instead of a test failing later with
 * an obscure spawn error (docs/testing.md: no test skips itself; it says what to install).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where the e2e helpers and the lab expect Debian's Chromium (docs/testing.md). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Where the Firefox e2e helper expects Debian's Firefox ESR (helpers/firefox.ts). */
export const FIREFOX_PATH = '/usr/bin/firefox-esr';

/** Where the WebKit e2e helper expects Debian's WebKitGTK driver (helpers/webkit.ts). */
export const WEBKIT_DRIVER_PATH = '/usr/bin/WebKitWebDriver';

/** Oldest Node.js major the workspace supports (root package.json "engines"). */
const MIN_NODE_MAJOR = 20;

/** A probe such as `unshare -n true` answers at once; 10 s only guards against a wedged kernel. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Returns true when `name` resolves on PATH (plus the sbin directories, which a
 * non-root PATH often lacks although `ip` and `iptables` live there).
 * @param {string} name
 */
/** Whether Debian's python3 (the one the framework tests run) imports `module`: a command on PATH may belong to another Python. */
function hasDebianPythonModule(module) {
  return spawnSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/** Whether Debian's Ruby (/usr/bin/ruby) loads `library`. */
function hasDebianRubyLibrary(library) {
  return spawnSync('/usr/bin/ruby', ['-e', `require ${JSON.stringify(library)}`], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/** Where scripts/debian-django4.sh unpacks Django 4 (the Django tests read the same variable and default). */
const DJANGO4_DIR = process.env.WINGMAN_DJANGO4_DIR ?? '/opt/wingman-test/django-4.2';

function hasDjango4() {
  const check = 'import sys, django; sys.exit(0 if django.VERSION >= (4,) else 1)';
  return spawnSync('/usr/bin/python3', ['-c', check], { stdio: 'ignore', timeout: 10_000, env: { ...process.env, PYTHONPATH: DJANGO4_DIR } }).status === 0;
}

export function hasCommand(name) {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  return dirs.some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** @returns {boolean} true when this process runs as root (CI does). */
export function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * The `unshare` flags that create a loopback-only network namespace here:
 * `-n` as root, `-rn` (map the caller to root in a new user namespace) otherwise,
 * each followed by `extraFlags` and tried with `sh -c <script>` (which brings lo up).
 * Returns null when none works, with each attempt's reason.
 * @param {{ extraFlags?: string[], script?: string }} [options] the bench adds a PID namespace with its /proc
 * @returns {{ flags: string[] } | { flags: null, reason: string }}
 */
export function probeNetnsFlags({ extraFlags = [], script = 'ip link set lo up' } = {}) {
  const attempts = (isRoot() ? [['-n'], ['-rn']] : [['-rn']]).map((f) => [...f, ...extraFlags]);
  const reasons = [];
  for (const flags of attempts) {
    const probe = spawnSync('unshare', [...flags, 'sh', '-c', script], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS });
    if (probe.status === 0) return { flags };
    reasons.push(`unshare ${flags.join(' ')}: ${(probe.stderr || probe.error?.message || `exit ${probe.status} (${script})`).trim()}`);
  }
  return { flags: null, reason: reasons.join('; ') };
}

/**
 * Whether tests of this kind exist: `test/<kind>/` at the root or in any workspace package.
 * @param {string} root repository root
 * @param {string} kind e.g. "lab"
 */
export function hasTestDir(root, kind) {
  if (existsSync(join(root, 'test', kind))) return true;
  const packagesDir = join(root, 'packages');
  if (!existsSync(packagesDir)) return false;
  return readdirSync(packagesDir).some((pkg) => existsSync(join(packagesDir, pkg, 'test', kind)));
}

/**
 * Checks everything `npm test` needs. Returns the list of problems (empty when
 * all is well) and the unshare flags to use.
 * @param {{ root: string, lab: boolean }} options root: repository root; lab: a lab test dir exists
 * @returns {{ problems: string[], netnsFlags: string[] | null }}
 */
export function checkTestPrerequisites({ root, lab }) {
  const problems = [];
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor < MIN_NODE_MAJOR) {
    problems.push(`Node.js ${process.versions.node} is too old: install Node.js ${MIN_NODE_MAJOR} or newer`);
  }
  if (process.platform !== 'linux') {
    problems.push('the test suite runs inside a Linux network namespace: run it on Linux (Debian 12 is what CI uses)');
  }
  if (!existsSync(join(root, 'node_modules', '.bin', 'jest'))) {
    problems.push('dependencies are missing: run npm ci');
  }
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    problems.push(`${CHROMIUM_PATH} is missing (browser end-to-end tests): install Debian chromium: apt-get install chromium`);
  }
  try {
    accessSync(FIREFOX_PATH, constants.X_OK);
  } catch {
    problems.push(`${FIREFOX_PATH} is missing (Firefox end-to-end tests): install Debian's Firefox ESR: apt-get install firefox-esr`);
  }
  try {
    accessSync(WEBKIT_DRIVER_PATH, constants.X_OK);
  } catch {
    problems.push(`${WEBKIT_DRIVER_PATH} is missing (WebKit end-to-end tests): apt-get install webkit2gtk-driver`);
  }
  const missingApt = [];
  // WebKitGTK has no headless mode: the WebKit tests start their own Xvfb display.
  if (!hasCommand('Xvfb')) missingApt.push(['Xvfb', 'xvfb']);
  // Stock Django (Debian's, run by /usr/bin/python3) is the app of the WebKit login test.
  if (!hasDebianPythonModule('django')) missingApt.push(['python3 module django', 'python3-django']);
  // ... in version 4 (CSRF's Origin check): Debian 13's, which scripts/debian-django4.sh unpacks beside Debian 12's 3.2.
  else if (!hasDjango4())
    problems.push(`Django 4 is missing (the Django tests): as root, run scripts/debian-django4.sh (unpacks Debian 13's python3-django into ${DJANGO4_DIR})`);
  // Stock Tornado (Debian's) is the app of the WebSocket check_origin test.
  if (!hasDebianPythonModule('tornado')) missingApt.push(['python3 module tornado', 'python3-tornado']);
  // Stock Flask (Debian's) is the app of the framework tests.
  if (!hasDebianPythonModule('flask')) missingApt.push(['python3 module flask', 'python3-flask']);
  // The server zoo's stock servers (packages/browser-client/test/e2e/server-zoo.test.ts).
  if (!hasCommand('php')) missingApt.push(['php', 'php-cli']);
  if (!hasCommand('busybox')) missingApt.push(['busybox', 'busybox']);
  if (!hasCommand('nginx')) missingApt.push(['nginx', 'nginx']);
  if (!hasCommand('lighttpd')) missingApt.push(['lighttpd', 'lighttpd']);
  // Ruby's WEBrick (`ruby -run -e httpd`), Debian's ruby with ruby-webrick (Ruby 3 ships it apart).
  if (!hasDebianRubyLibrary('webrick')) missingApt.push(['ruby library webrick', 'ruby ruby-webrick']);
  // Debian's MkDocs and Hugo (their /usr/bin ones, not a pip one on PATH): live reload over P2P (live-reload.test.ts in the browser client's e2e).
  if (!existsSync('/usr/bin/mkdocs')) missingApt.push(['/usr/bin/mkdocs', 'mkdocs']);
  if (!existsSync('/usr/bin/hugo')) missingApt.push(['/usr/bin/hugo', 'hugo']);
  if (!hasCommand('unshare')) missingApt.push(['unshare', 'util-linux']);
  // The agent behind a proxy (agent-proxy.test.ts): tinyproxy (HTTP CONNECT) and Dante (SOCKS5); Dante's password
  // check reads /etc/passwd and /etc/shadow, which the test gives it in a mount namespace of its own (unshare, mount).
  if (!existsSync('/usr/bin/tinyproxy')) missingApt.push(['/usr/bin/tinyproxy', 'tinyproxy']);
  if (!existsSync('/usr/sbin/danted')) missingApt.push(['/usr/sbin/danted', 'dante-server']);
  if (!hasCommand('mount')) missingApt.push(['mount', 'mount']);
  if (!hasCommand('ip')) missingApt.push(['ip', 'iproute2']);
  // TLS tests: a throwaway CA (openssl), trusted by Chromium through an NSS database (certutil).
  if (!hasCommand('openssl')) missingApt.push(['openssl', 'openssl']);
  if (!hasCommand('certutil')) missingApt.push(['certutil', 'libnss3-tools']);
  // The operator files of deploy/: the systemd unit (systemd-analyze verify) and the Caddyfile (caddy validate).
  if (!hasCommand('systemd-analyze')) missingApt.push(['systemd-analyze', 'systemd']);
  if (!hasCommand('caddy')) missingApt.push(['caddy', 'caddy']);
  if (lab) {
    if (!hasCommand('iptables')) missingApt.push(['iptables', 'iptables']);
    if (!hasCommand('turnserver')) missingApt.push(['turnserver', 'coturn']);
    // The lab's WAN delay line is compiled at run time (scripts/lab/delay-line).
    if (!hasCommand('cc') && !hasCommand('gcc')) missingApt.push(['gcc', 'gcc']);
    // The deploy doc's Caddy path: Let's Encrypt's test CA, and curl for its TLS handshake checks.
    if (!hasCommand('pebble')) missingApt.push(['pebble', 'pebble']);
    if (!hasCommand('curl')) missingApt.push(['curl', 'curl']);
  }
  for (const [bin, pkg] of missingApt) problems.push(`\`${bin}\` is missing: apt-get install ${pkg}`);

  let netnsFlags = null;
  if (hasCommand('unshare') && hasCommand('ip')) {
    const probe = probeNetnsFlags();
    if (probe.flags) netnsFlags = probe.flags;
    else {
      problems.push(
        'cannot create a network namespace (tests run in a loopback-only one): run as root, or enable ' +
          'unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces > 0). ' +
          `unshare said: ${probe.reason}`,
      );
    }
  }
  if (lab && !isRoot()) {
    problems.push('the network lab (packages/*/test/lab) creates namespaces, veth pairs and iptables rules: run npm test as root');
  }
  return { problems, netnsFlags };
}
