/**
 * Builds one scenario's network out of namespaces, veth pairs and bridges,
 * all addressed inside LAB_NET (10.231.0.0/16), which the lab owns:
 *
 *   public ns (br0 10.231.B.1: tunnel server, coturn)
 *     └─ public segment 10.231.B.0/24 ── router i WAN 10.231.B.(10+i)
 *          router i: forwarding, stateful firewall, NAT (none / cone / symmetric)
 *            └─ LAN 10.231.(B+1+i).0/24 (router .1) ── hosts .10, .11 (dev, reviewer)
 *
 * B = 16 × scenario index, so scenarios never share a prefix. No namespace
 * is connected to the caller's namespace. Hosts have a default route to
 * their lab router (as any real host has; Chromium needs one to pick its
 * host candidate); routers and the public namespace have none, and routers
 * reject every destination outside LAB_NET, so no packet can leave the lab.
 * The public namespace routes only to the LANs of routers without NAT.
 * IPv6 is off in every lab namespace so that no link-local address becomes
 * a candidate.
 */
import { existsSync } from 'node:fs';
import { addAddress, addBridge, addDefaultRouteInsideLab, addNamespace, addRoute, addVeth, attachToBridge, iptables, sysctl } from './netns.mjs';

/** The lab's address block; nothing outside it is ever assigned. */
export const LAB_NET = '10.231.0.0/16';
const LAB_NET_OCTETS = '10.231';
/** Present only when br_netfilter is loaded. */
const BRIDGE_NF_SYSCTL = '/proc/sys/net/bridge/bridge-nf-call-iptables';
/** Scenario index × 16 is the third octet of its block, so at most 16 scenarios (0-15). */
const MAX_SCENARIOS = 16;
/** The tunnel server's HTTPS port on the public address (all a locked-down firewall lets through): 443, as deployed. */
export const SERVER_PORT = 443;
/** coturn's STUN/TURN port, UDP and TCP (RFC 8489 §18.6 default). */
export const TURN_PORT = 3478;

/**
 * @typedef {'none' | 'cone' | 'symmetric'} NatKind
 *   none: plain routing; cone: MASQUERADE (Linux keeps the source port, so one
 *   mapping per socket: endpoint-independent mapping, port-restricted filtering);
 *   symmetric: MASQUERADE --random-fully (a new random port per destination:
 *   endpoint-dependent mapping, what STUN cannot get through).
 * @typedef {'open' | 'no-udp' | 'http-only'} FirewallKind
 *   what the router lets out of its LAN, besides replies.
 * @typedef {'drop' | 'reset'} BlockKind
 *   how a blocked packet dies: silently, or with a TCP RST / ICMP port unreachable.
 * @typedef {object} RouterSpec
 * @property {NatKind} nat
 * @property {Array<'dev' | 'reviewer'>} hosts the hosts on this router's LAN (one segment)
 * @property {FirewallKind} [firewall] default 'open'
 * @property {BlockKind} [block] default 'drop'
 * @typedef {object} Topology
 * @property {string} publicNs
 * @property {string} publicIp the tunnel server's and coturn's address
 * @property {{ dev: string, reviewer: string }} ns host namespaces
 * @property {{ dev: string, reviewer: string }} hostIp host addresses (private when behind NAT)
 * @property {{ dev: string, reviewer: string }} wanIp the WAN address of each host's router
 *   (the host's public address when its router NATs)
 * @property {{ dev: string, reviewer: string }} routerNs each host's router namespace
 * @property {{ dev: string, reviewer: string }} routerPort the router's interface towards each host
 * @property {Array<[string, string]>} reachableRanges address ranges the public namespace can
 *   reach (its segment, and the LANs of routers without NAT): the lab's "internet"
 * @property {string[]} namespaces every namespace created, for clean-up
 */

/**
 * Creates the namespaces of one scenario. On failure the namespaces created
 * so far are in `created` (the caller deletes them by prefix anyway).
 * @param {{ prefix: string, index: number, name: string, routers: RouterSpec[] }} options
 * @returns {Topology}
 */
export function buildTopology({ prefix, index, name, routers }) {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_SCENARIOS) throw new Error(`scenario index ${index} outside 0-${MAX_SCENARIOS - 1}`);
  if (routers.length < 1 || routers.length > 2) throw new Error(`${name}: one or two routers`);
  const base = index * 16;
  const net = (third, host) => `${LAB_NET_OCTETS}.${third}.${host}`;
  const nsName = (role) => `${prefix}${index}-${role}`;
  const namespaces = [];
  const make = (role) => {
    const ns = nsName(role);
    addNamespace(ns);
    namespaces.push(ns);
    // Before any veth exists here, so that no interface ever gets an IPv6 address.
    sysctl(ns, 'net.ipv6.conf.all.disable_ipv6', 1);
    sysctl(ns, 'net.ipv6.conf.default.disable_ipv6', 1);
    // Where br_netfilter is loaded (Docker hosts), bridged frames would traverse iptables and a
    // router's FORWARD policy would drop traffic between two hosts of one LAN. A switch does not
    // filter: turn it off in our namespaces (per namespace since Linux 5.3; absent without the module).
    if (existsSync(BRIDGE_NF_SYSCTL)) {
      for (const family of ['iptables', 'ip6tables', 'arptables']) sysctl(ns, `net.bridge.bridge-nf-call-${family}`, 0);
    }
    return ns;
  };

  const publicNs = make('public');
  const publicIp = net(base, 1);
  addBridge(publicNs, 'br0');
  addAddress(publicNs, 'br0', `${publicIp}/24`);

  const reachableRanges = [[net(base, 0), net(base, 255)]];
  const ns = /** @type {Record<string, string>} */ ({});
  const hostIp = /** @type {Record<string, string>} */ ({});
  const wanIpOf = /** @type {Record<string, string>} */ ({});
  const routerNs = /** @type {Record<string, string>} */ ({});
  const routerPort = /** @type {Record<string, string>} */ ({});
  routers.forEach((spec, i) => {
    const router = make(`r${i}`);
    const wanIp = net(base, 10 + i);
    const lanThird = base + 1 + i;
    const lanGw = net(lanThird, 1);
    addVeth({ ns: router, name: 'wan' }, { ns: publicNs, name: `r${i}` });
    attachToBridge(publicNs, `r${i}`, 'br0');
    addAddress(router, 'wan', `${wanIp}/24`);
    addBridge(router, 'br0');
    addAddress(router, 'br0', `${lanGw}/24`);
    sysctl(router, 'net.ipv4.ip_forward', 1);
    configureFirewall(router, spec, publicIp);
    if (spec.nat === 'none') {
      addRoute(publicNs, `${net(lanThird, 0)}/24`, wanIp);
      reachableRanges.push([net(lanThird, 0), net(lanThird, 255)]);
    }

    spec.hosts.forEach((role, j) => {
      if (ns[role]) throw new Error(`${name}: ${role} on two routers`);
      const host = make(role);
      const ip = net(lanThird, 10 + j);
      addVeth({ ns: host, name: 'eth0' }, { ns: router, name: `h${j}` });
      attachToBridge(router, `h${j}`, 'br0');
      addAddress(host, 'eth0', `${ip}/24`);
      // A default route to the lab router, as every real host has: Chromium finds its
      // default local address with it (without one it gathers no host candidate at all).
      // The router routes only lab prefixes and rejects the rest, so nothing leaves the lab.
      addDefaultRouteInsideLab(host, lanGw);
      ns[role] = host;
      hostIp[role] = ip;
      wanIpOf[role] = wanIp;
      routerNs[role] = router;
      routerPort[role] = `h${j}`;
    });
  });
  if (!ns.dev || !ns.reviewer) throw new Error(`${name}: needs a dev and a reviewer host`);
  const pick = (m) => ({ dev: m.dev, reviewer: m.reviewer });
  return {
    publicNs,
    publicIp,
    ns: pick(ns),
    hostIp: pick(hostIp),
    wanIp: pick(wanIpOf),
    routerNs: pick(routerNs),
    routerPort: pick(routerPort),
    reachableRanges,
    namespaces,
  };
}

/**
 * A home/office router: replies always pass, nothing enters unsolicited,
 * new connections from the LAN pass unless the firewall kind forbids them.
 * Traffic between two hosts on the same LAN is bridged and never reaches
 * these rules (br_netfilter is not loaded).
 * @param {string} router
 * @param {RouterSpec} spec
 * @param {string} publicIp
 */
function configureFirewall(router, spec, publicIp) {
  // Unsolicited packets to the router itself are dropped, as home routers do. This also matters
  // for hole punching: a dropped packet leaves no conntrack entry, while an accepted one (answered
  // with ICMP) stays for nf_conntrack_udp_timeout (30 s) and makes MASQUERADE pick another port
  // for the host's own packets to that peer — an endpoint-dependent mapping by accident.
  iptables(router, '-A', 'INPUT', '-i', 'wan', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
  iptables(router, '-A', 'INPUT', '-i', 'wan', '-j', 'DROP');
  iptables(router, '-P', 'FORWARD', 'DROP');
  // Belt and braces: the router has no route beyond the lab anyway.
  iptables(router, '-A', 'FORWARD', '!', '-d', LAB_NET, '-j', 'REJECT', '--reject-with', 'icmp-net-unreachable');
  iptables(router, '-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
  const firewall = spec.firewall ?? 'open';
  const block = spec.block ?? 'drop';
  const blockRules = (match) => {
    if (block === 'drop') return iptables(router, '-A', 'FORWARD', '-i', 'br0', ...match, '-j', 'DROP');
    // RST for TCP, ICMP port unreachable for the rest: the fast failure a friendly firewall gives.
    if (!match.includes('udp')) iptables(router, '-A', 'FORWARD', '-i', 'br0', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset');
    iptables(router, '-A', 'FORWARD', '-i', 'br0', ...match, '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable');
  };
  if (firewall === 'no-udp') {
    blockRules(['-p', 'udp']);
  } else if (firewall === 'http-only') {
    iptables(router, '-A', 'FORWARD', '-i', 'br0', '-p', 'tcp', '-d', publicIp, '--dport', String(SERVER_PORT), '-j', 'ACCEPT');
    blockRules([]);
  } else if (firewall !== 'open') {
    throw new Error(`unknown firewall kind ${firewall}`);
  }
  iptables(router, '-A', 'FORWARD', '-i', 'br0', '-o', 'wan', '-j', 'ACCEPT');
  if (spec.nat === 'cone') iptables(router, '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE');
  else if (spec.nat === 'symmetric') iptables(router, '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE', '--random-fully');
  else if (spec.nat !== 'none') throw new Error(`unknown NAT kind ${spec.nat}`);
}

/**
 * A host that can reach nothing but the tunnel server's HTTP port (and its
 * own loopback): no STUN, no TURN, no peer. Applied on the host itself
 * (OUTPUT), so it also holds between two hosts of one LAN, which the
 * routers never see.
 * @param {string} ns
 * @param {string} publicIp
 */
export function allowOnlyServerHttp(ns, publicIp) {
  iptables(ns, '-A', 'OUTPUT', '-o', 'lo', '-j', 'ACCEPT');
  iptables(ns, '-A', 'OUTPUT', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
  iptables(ns, '-A', 'OUTPUT', '-p', 'tcp', '-d', publicIp, '--dport', String(SERVER_PORT), '-j', 'ACCEPT');
  iptables(ns, '-P', 'OUTPUT', 'DROP');
}
