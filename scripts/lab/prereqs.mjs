/**
 * What the lab needs, checked up front so that a missing piece fails with
 * the command that installs it (never a skip, never an obscure spawn error).
 */
import { accessSync, constants } from 'node:fs';
import { CHROMIUM_PATH, hasCommand, isRoot } from '../lib/prereqs.mjs';
import { missingBuildOutputs } from './stack.mjs';

/** @returns {string[]} problems; empty when the lab can run */
export function labProblems() {
  const problems = [];
  if (process.platform !== 'linux') problems.push('the lab uses Linux network namespaces: run it on Linux');
  if (!isRoot()) problems.push('the lab creates network namespaces, veth pairs and iptables rules: run it as root (CI does)');
  const apt = [
    ['ip', 'iproute2'],
    ['iptables', 'iptables'],
    ['turnserver', 'coturn'],
  ];
  for (const [bin, pkg] of apt) if (!hasCommand(bin)) problems.push(`\`${bin}\` is missing: apt-get install ${pkg}`);
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    problems.push(`${CHROMIUM_PATH} is missing: apt-get install chromium`);
  }
  for (const p of missingBuildOutputs()) problems.push(`${p} is missing: run npm run build`);
  return problems;
}
