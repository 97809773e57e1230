/**
 * An office whose only way out is its proxy, built of network namespaces
 * (root; the lab's `ip` wrappers, scripts/lab/netns.mjs) in the lab's block
 * 10.231.0.0/16, on two segments the lab's scenarios never use (.250, .251):
 *
 *   internet   br0 10.231.250.1             the tunnel server
 *     ├─ outside   eth0 10.231.250.3       a reviewer elsewhere
 *     └─ proxy     wan  10.231.250.2       the office proxy; its host does not forward
 *          lan (a bridge) 10.231.251.1
 *            ├─ dev        eth0 10.231.251.10   the app and `wingman http`
 *            └─ colleague  eth0 10.231.251.11   a reviewer on the developer's LAN
 *
 * No namespace has a default route nor any route beyond its own segments, so
 * an office host reaches the internet segment only through a proxy, and the
 * outside reviewer never reaches the office. IPv6 is off (no link-local
 * candidates). Names resolve through each namespace's hosts file
 * (/etc/netns/<ns>/hosts, which `ip netns exec` binds over /etc/hosts):
 * `names` in the proxy's and the outside reviewer's, none in the office
 * hosts' (they give names to the proxy). Nothing connects to the caller's
 * namespace. destroy() ends every process in them and removes the
 * namespaces and their hosts files, by name.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addAddress, addBridge, addNamespace, addVeth, attachToBridge, destroyNamespaces, runPrefix, sysctl } from '../../scripts/lab/netns.mjs';
import { isRoot } from '../../scripts/lib/prereqs.mjs';

/** Where `ip netns exec` finds a namespace's own /etc files. */
const NETNS_ETC = '/etc/netns';
/** Present only when br_netfilter is loaded: bridged frames would then traverse iptables. */
const BRIDGE_NF_SYSCTL = '/proc/sys/net/bridge/bridge-nf-call-iptables';

export const OFFICE_IP = {
  server: '10.231.250.1',
  proxyWan: '10.231.250.2',
  outside: '10.231.250.3',
  proxyLan: '10.231.251.1',
  dev: '10.231.251.10',
  colleague: '10.231.251.11',
} as const;
/** The office LAN, whose hosts a proxy serves. */
export const OFFICE_LAN = '10.231.251.0/24';

type Role = 'internet' | 'outside' | 'proxy' | 'dev' | 'colleague';

export interface Office {
  ns: Record<Role, string>;
  /** Ends every process in the namespaces, deletes them and their hosts files: the problems (none when all is gone). */
  destroy(): string[];
}

/** A namespace with `lo` up and IPv6 off, before any interface exists in it. */
function addHost(ns: string): void {
  addNamespace(ns);
  sysctl(ns, 'net.ipv6.conf.all.disable_ipv6', 1);
  sysctl(ns, 'net.ipv6.conf.default.disable_ipv6', 1);
  // A switch does not filter: where br_netfilter is loaded, bridged frames stay out of iptables (per namespace).
  if (existsSync(BRIDGE_NF_SYSCTL)) for (const family of ['iptables', 'ip6tables', 'arptables']) sysctl(ns, `net.bridge.bridge-nf-call-${family}`, 0);
}

/** Builds the office; `names` (host name → address) go into the proxy's and the outside reviewer's hosts files. Throws (all removed) on failure. */
export function buildOffice(names: Record<string, string>): Office {
  if (!isRoot()) throw new Error('the office network is made of network namespaces: run the tests as root (npm test does in CI)');
  const prefix = `${runPrefix()}office-`;
  const ns = { internet: `${prefix}internet`, outside: `${prefix}outside`, proxy: `${prefix}proxy`, dev: `${prefix}dev`, colleague: `${prefix}colleague` };
  const made: string[] = [];
  const etcCreated = !existsSync(NETNS_ETC);
  const destroy = () => {
    const problems = destroyNamespaces(made);
    for (const name of Object.values(ns)) rmSync(join(NETNS_ETC, name), { recursive: true, force: true });
    if (etcCreated && existsSync(NETNS_ETC) && readdirSync(NETNS_ETC).length === 0) rmdirSync(NETNS_ETC);
    return problems;
  };
  try {
    for (const name of Object.values(ns)) {
      addHost(name);
      made.push(name);
    }
    addBridge(ns.internet, 'br0');
    addAddress(ns.internet, 'br0', `${OFFICE_IP.server}/24`);
    addVeth({ ns: ns.proxy, name: 'wan' }, { ns: ns.internet, name: 'proxy' });
    addVeth({ ns: ns.outside, name: 'eth0' }, { ns: ns.internet, name: 'outside' });
    attachToBridge(ns.internet, 'proxy', 'br0');
    attachToBridge(ns.internet, 'outside', 'br0');
    addAddress(ns.proxy, 'wan', `${OFFICE_IP.proxyWan}/24`);
    addAddress(ns.outside, 'eth0', `${OFFICE_IP.outside}/24`);

    addBridge(ns.proxy, 'lan');
    addAddress(ns.proxy, 'lan', `${OFFICE_IP.proxyLan}/24`);
    sysctl(ns.proxy, 'net.ipv4.ip_forward', 0);
    for (const [role, port] of [
      ['dev', 'h0'],
      ['colleague', 'h1'],
    ] as const) {
      addVeth({ ns: ns[role], name: 'eth0' }, { ns: ns.proxy, name: port });
      attachToBridge(ns.proxy, port, 'lan');
      addAddress(ns[role], 'eth0', `${OFFICE_IP[role]}/24`);
    }

    const hosts = `127.0.0.1 localhost\n${Object.entries(names)
      .map(([name, address]) => `${address} ${name}\n`)
      .join('')}`;
    for (const role of ['proxy', 'outside'] as const) {
      mkdirSync(join(NETNS_ETC, ns[role]), { recursive: true });
      writeFileSync(join(NETNS_ETC, ns[role], 'hosts'), hosts);
    }
  } catch (err) {
    const problems = destroy();
    throw new Error(`${(err as Error).message}${problems.length > 0 ? `; cleaning up: ${problems.join('; ')}` : ''}`);
  }
  return { ns, destroy };
}
