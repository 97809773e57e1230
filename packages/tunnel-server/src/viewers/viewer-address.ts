/**
 * The viewer's address, for per-source limits: the socket's peer, or behind `TRUST_PROXY` = N proxies the entry N
 * places from the right of X-Forwarded-For + peer (as express's `trust proxy` = N). In a cluster the forwarding node
 * sends the address it resolved in the hop header, signed with the hop key (HMAC-SHA256); an unsigned or forged one
 * is ignored (the request counts against the sender).
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { currentKey, signedUnder, type Keys } from '../keys/key-ring';

/**
 * Marks a request one node of a cluster forwarded to another (cluster/node-forward.ts), with the viewer's address it
 * vouches for. A node never forwards a marked request again, and the relay drops the field (relay/headers.ts).
 */
export const CLUSTER_HOP_HEADER = 'x-wingman-cluster-hop';

/** The peer address of a request, without the IPv4-mapped IPv6 prefix (`::ffff:127.0.0.1` → `127.0.0.1`). */
export function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Longest address kept from a header (an IPv6 address with a zone fits well within it). */
const MAX_ADDRESS_CHARS = 64;
/** An address as the hop header carries it: the header's own separators (';', spaces) excluded. */
const HOP_ADDRESS = `[^;\\s]{1,${MAX_ADDRESS_CHARS}}`;
const HOP_VALUE = new RegExp(`^1;for=(${HOP_ADDRESS});sig=([A-Za-z0-9_-]{43})$`);
const HOP_ADDRESS_ONLY = new RegExp(`^${HOP_ADDRESS}$`);

interface ViewerAddressOptions {
  /** Reverse proxies in front of this server whose X-Forwarded-For entry is trusted (0: none). */
  trustProxy: number;
  /** Cluster only: key of the hop header's signature, the same on every node (a ring: signs with the current key, accepts the one before). */
  hopKey?: Keys;
}

/** The address `trustProxy` places from the right of X-Forwarded-For + the socket peer (the leftmost when the chain is shorter). */
export function forwardedAddress(req: IncomingMessage, trustProxy: number): string {
  const peer = clientAddress(req);
  if (trustProxy <= 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  const chain = [...entries, peer];
  return chain[Math.max(0, chain.length - 1 - trustProxy)]!.slice(0, MAX_ADDRESS_CHARS);
}

export function createViewerAddresses(options: ViewerAddressOptions) {
  const { hopKey, trustProxy } = options;
  const signUnder = (key: Uint8Array, address: string) => createHmac('sha256', key).update(address).digest('base64url');

  /** The address a forwarding node vouched for, or undefined (no key, no header, a bad signature). */
  const vouched = (req: IncomingMessage): string | undefined => {
    const value = req.headers[CLUSTER_HOP_HEADER];
    if (!hopKey || typeof value !== 'string') return undefined;
    const m = HOP_VALUE.exec(value);
    if (!m) return undefined;
    const [, address, sig] = m as unknown as [string, string, string];
    return signedUnder(hopKey, sig, (key) => signUnder(key, address)) ? address : undefined;
  };

  const of = (req: IncomingMessage): string => vouched(req) ?? forwardedAddress(req, trustProxy);
  return {
    of,
    /** Value of the cluster hop header when forwarding `req` to another node: its viewer's address, signed. */
    hopValue(req: IncomingMessage): string {
      if (!hopKey) return '1';
      // An address the header cannot carry (';' or spaces in it) is not vouched for.
      const address = of(req);
      return HOP_ADDRESS_ONLY.test(address) ? `1;for=${address};sig=${signUnder(currentKey(hopKey), address)}` : '1';
    },
  };
}
