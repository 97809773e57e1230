/**
 * Messages between the agent and its P2P host process (host-process.ts,
 * isolated-peer-host.ts), over Node's IPC channel. The child is our own
 * code, but its messages still cross a process boundary that a native crash
 * can cut mid-way: each one is checked before use, signaling payloads with
 * the protocol package's own parsers.
 */
import { parseHostSignal, parseViewerSignal, type HostSignal, type IceServer, type ViewerSignal } from '@wingman/protocol';
import type { HostHeaderMode, RequestLogEntry, Target } from '../forward';
import type { PeerReport } from './peer-host';

/** What the child needs to serve P2P streams on its own: the forwarder's and the peer host's settings. */
export interface HostInit {
  t: 'init';
  target: Target;
  hostHeader: HostHeaderMode;
  timeoutMs?: number;
  /** Largest WebSocket message relayed either way (the forwarder's and the data channels' cap). */
  wsMaxMessageBytes?: number;
  iceServers: IceServer[];
  connectTimeoutMs: number;
  maxPeers?: number;
  rawBench: boolean;
}

export type ToHost =
  | HostInit
  | { t: 'signal'; viewerId: string; message: ViewerSignal }
  | { t: 'viewer-left'; viewerId: string }
  | { t: 'ice-servers'; iceServers: IceServer[] }
  | { t: 'close' };

export type FromHost =
  | { t: 'ready' }
  | { t: 'signal'; viewerId: string; message: HostSignal }
  | { t: 'report'; report: PeerReport }
  | { t: 'request'; entry: RequestLogEntry };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/** Checks a message from the host process; undefined when it is not one we know. */
export function parseFromHost(m: unknown): FromHost | undefined {
  if (!isObject(m)) return undefined;
  switch (m.t) {
    case 'ready':
      return { t: 'ready' };
    case 'signal':
      return isString(m.viewerId) ? withSignal(() => ({ t: 'signal', viewerId: m.viewerId as string, message: parseHostSignal(m.message) })) : undefined;
    case 'report': {
      const r = m.report;
      if (!isObject(r) || !isString(r.viewerId) || !(r.state === 'connected' || r.state === 'failed' || r.state === 'closed')) return undefined;
      return { t: 'report', report: r as unknown as PeerReport };
    }
    case 'request': {
      const e = m.entry;
      if (!isObject(e) || !isString(e.method) || !isString(e.target) || typeof e.status !== 'number' || typeof e.ms !== 'number') return undefined;
      return { t: 'request', entry: e as unknown as RequestLogEntry };
    }
    default:
      return undefined;
  }
}

/** Checks a message from the agent; undefined when it is not one we know. */
export function parseToHost(m: unknown): ToHost | undefined {
  if (!isObject(m)) return undefined;
  switch (m.t) {
    case 'init': {
      const target = m.target;
      if (!isObject(target) || !isString(target.host) || typeof target.port !== 'number') return undefined;
      if (!isString(m.hostHeader) || !Array.isArray(m.iceServers) || typeof m.connectTimeoutMs !== 'number') return undefined;
      if (m.wsMaxMessageBytes !== undefined && typeof m.wsMaxMessageBytes !== 'number') return undefined;
      return m as unknown as HostInit;
    }
    case 'signal':
      return isString(m.viewerId) ? withSignal(() => ({ t: 'signal', viewerId: m.viewerId as string, message: parseViewerSignal(m.message) })) : undefined;
    case 'viewer-left':
      return isString(m.viewerId) ? { t: 'viewer-left', viewerId: m.viewerId } : undefined;
    case 'ice-servers':
      return Array.isArray(m.iceServers) ? { t: 'ice-servers', iceServers: m.iceServers as IceServer[] } : undefined;
    case 'close':
      return { t: 'close' };
    default:
      return undefined;
  }
}

/** A signaling payload that fails the protocol's parser makes the whole message unknown. */
function withSignal<T>(build: () => T): T | undefined {
  try {
    return build();
  } catch {
    return undefined;
  }
}
