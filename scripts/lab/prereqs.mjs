/**
 * What the lab needs, checked up front so that a missing piece fails with
 * the command that installs it (never a skip, never an obscure spawn error).
 */
import { accessSync, constants } from 'node:fs';
import { CHROMIUM_PATH, hasCommand, isRoot } from '../lib/prereqs.mjs';
import { C_COMPILERS } from './delay-line.mjs';
import { missingBuildOutputs } from './stack.mjs';

/** Where the kernel's TUN driver is opened (the delay line's device). */
const TUN_DEVICE = '/dev/net/tun';

/** The C compiler that builds the delay line, or null. */
export function cCompiler() {
  return C_COMPILERS.find((c) => hasCommand(c)) ?? null;
}

/**
 * @param {{ wan?: boolean }} [options] wan: the WAN comparison also runs nginx (its TLS proxy baseline)
 * @returns {string[]} problems; empty when the lab can run
 */
export function labProblems({ wan = false } = {}) {
  const problems = [];
  if (process.platform !== 'linux') problems.push('the lab uses Linux network namespaces: run it on Linux');
  if (!isRoot()) problems.push('the lab creates network namespaces, veth pairs and iptables rules: run it as root (CI does)');
  const apt = [
    ['ip', 'iproute2'],
    ['iptables', 'iptables'],
    ['turnserver', 'coturn'],
    ['tc', 'iproute2'],
    ['openssl', 'openssl'],
    ['certutil', 'libnss3-tools'],
  ];
  if (wan) apt.push(['nginx', 'nginx']);
  for (const [bin, pkg] of apt) if (!hasCommand(bin)) problems.push(`\`${bin}\` is missing: apt-get install ${pkg}`);
  if (cCompiler() === null) problems.push('no C compiler (`cc` or `gcc`) to build the WAN delay line: apt-get install gcc');
  try {
    accessSync(TUN_DEVICE, constants.R_OK | constants.W_OK);
  } catch {
    problems.push(`${TUN_DEVICE} is missing (the WAN delay line is a TUN device): modprobe tun`);
  }
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    problems.push(`${CHROMIUM_PATH} is missing: apt-get install chromium`);
  }
  for (const p of missingBuildOutputs()) problems.push(`${p} is missing: run npm run build`);
  return problems;
}
