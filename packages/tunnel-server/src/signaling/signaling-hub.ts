/**
 * Signaling between viewers (WebSocket at SIGNAL_PATH on a session origin) and the session's agent (its control
 * channel). The hub validates every message, rate-limits each viewer, and routes strictly within one session: a
 * viewer reaches only the agent of the origin it connected to, and an agent reaches only its own session's viewers.
 * SDP is forwarded, never stored.
 */
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import {
  MAX_SIGNAL_MESSAGE_BYTES,
  parseViewerSignal,
  ProtocolError,
  type HostSignal,
  type P2PSettings,
  type PeerReportMessage,
  type ServerToAgent,
  type SignalHello,
  type SignalingErrorCode,
  WS_CLOSE_MESSAGE_TOO_BIG,
} from '@wingman/protocol';
import { DEFAULT_MAX_SIGNALING_PER_VIEWER } from '../limits';
import { holderOf } from '../sessions/fair-share';
import type { SlotCut } from '../sessions/push-out';
import type { P2PMetrics } from '../metrics';
import { createSignalingShares } from './signaling-shares';
import { WS_CLOSE_POLICY_VIOLATION } from '../http/ws-data';
import { createTokenBucket, type TokenBucket } from '../http/token-bucket';

/** Burst of signaling messages per viewer (an offer plus ~20 candidates plus state). */
const SIGNAL_BURST = 100;
/** Sustained signaling messages per second per viewer. */
const SIGNAL_PER_SECOND = 20;
/** A viewer that sends this many invalid messages is disconnected. */
const MAX_INVALID_SIGNALS = 5;

export interface SignalingSession {
  readonly id: string;
  /** P2P allowed now: server flag, agent flag, agent connected. */
  p2pEnabled(): boolean;
  /** P2P is on at the server and the session waits for its agent to come back (a restart, a dropped network). */
  agentAway(): boolean;
  /** The ICE configuration for one viewer (TURN credentials are per viewer and short-lived). */
  p2pSettings(viewerId: string): P2PSettings;
  /** Sends a control message to the agent; false when no agent is connected. */
  sendToAgent(message: ServerToAgent): boolean;
}

interface SignalingHubOptions {
  metrics: P2PMetrics;
  /** Signaling sockets one viewer address may hold per session, at most (fair shares: signaling-shares.ts). Default DEFAULT_MAX_SIGNALING_PER_VIEWER. */
  maxPerAddress?: number;
  /** Each signaling socket cut for a viewer holding fewer (server.ts logs it). */
  onCut?: (cut: SlotCut<string>) => void;
}

export type SignalingHub = ReturnType<typeof createSignalingHub>;

interface Viewer {
  id: string;
  ws: WebSocket;
  bucket: TokenBucket;
  invalid: number;
  offeredAt?: number;
  /** Signaling payload bytes in and out on this socket. */
  bytes: number;
}

export function createSignalingHub(options: SignalingHubOptions) {
  const sessions = new Map<string, Map<string, Viewer>>();
  const { metrics } = options;

  /** Sends one JSON message; returns its size in bytes (0 when the socket is not open). The server's own errors are SignalingErrorCodes; an agent's are relayed as they came. */
  const sendJson = (ws: WebSocket, m: SignalHello | HostSignal | HostSignal<string>): number => {
    if (ws.readyState !== 1) return 0;
    const text = JSON.stringify(m);
    ws.send(text);
    const n = Buffer.byteLength(text);
    metrics.signalingBytes.inc({ direction: 'server-to-viewer' }, n);
    return n;
  };
  /** Who holds the session's signaling sockets; refusals are counted as rejected with their code, cuts on their own. */
  const admit = createSignalingShares({
    maxPerAddress: options.maxPerAddress ?? DEFAULT_MAX_SIGNALING_PER_VIEWER,
    sendError: (ws, message, why) => {
      if (why === 'refused') metrics.signalingRejected.inc({ code: message.code });
      sendJson(ws, message);
    },
    onCut: (cut) => {
      metrics.signalingCut.inc();
      options.onCut?.(cut);
    },
  });
  const sendToViewer = (v: Viewer, m: SignalHello | HostSignal | HostSignal<string>) => {
    v.bytes += sendJson(v.ws, m);
  };

  /**
   * Why P2P is refused now. An agent away is no verdict on P2P: its viewers are told so (ERR_AGENT_OFFLINE) and try
   * again, while ERR_P2P_DISABLED ends their attempts for the page's life.
   */
  const refusal = (session: SignalingSession): { code: SignalingErrorCode; message: string } | undefined => {
    if (session.p2pEnabled()) return undefined;
    if (session.agentAway()) return { code: 'ERR_AGENT_OFFLINE', message: "the session's agent is not connected; P2P comes back with it" };
    return { code: 'ERR_P2P_DISABLED', message: 'P2P is disabled for this session; the relay serves it' };
  };

  const reject = (v: Viewer, code: SignalingErrorCode, message: string, close?: number) => {
    metrics.signalingRejected.inc({ code });
    sendToViewer(v, { type: 'error', code, message });
    if (close) v.ws.close(close, code);
  };

  return {
    /** Takes over a viewer's upgraded WebSocket for `session`; `address` is the viewer's (per-address quota). */
    acceptViewer(ws: WebSocket, session: SignalingSession, address: string): void {
      const refused = refusal(session);
      if (refused) {
        sendJson(ws, { type: 'error', code: refused.code, message: refused.message });
        ws.close(1000, refused.code);
        return;
      }
      const release = admit(ws, session.id, holderOf(address));
      if (!release) return;
      const viewer: Viewer = { id: randomBytes(8).toString('hex'), ws, bucket: createTokenBucket(SIGNAL_BURST, SIGNAL_PER_SECOND), invalid: 0, bytes: 0 };
      // A session's entry exists only while one of its viewers signals: a refused socket leaves nothing behind.
      const viewers = sessions.get(session.id) ?? new Map<string, Viewer>();
      sessions.set(session.id, viewers);
      viewers.set(viewer.id, viewer);
      sendToViewer(viewer, { type: 'hello', viewerId: viewer.id, p2p: session.p2pSettings(viewer.id) });

      ws.on('message', (data, isBinary) => {
        const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength;
        viewer.bytes += size;
        metrics.signalingBytes.inc({ direction: 'viewer-to-server' }, size);
        if (isBinary) return reject(viewer, 'ERR_INVALID_SIGNAL', 'signaling messages are JSON text');
        if (size > MAX_SIGNAL_MESSAGE_BYTES)
          return reject(viewer, 'ERR_MESSAGE_TOO_LARGE', `signaling message over ${MAX_SIGNAL_MESSAGE_BYTES} bytes`, WS_CLOSE_MESSAGE_TOO_BIG);
        if (!viewer.bucket.take())
          return reject(viewer, 'ERR_RATE_LIMITED', `over ${SIGNAL_PER_SECOND} signaling messages per second`, WS_CLOSE_POLICY_VIOLATION);
        let message;
        try {
          message = parseViewerSignal(data.toString());
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          viewer.invalid++;
          return reject(viewer, 'ERR_INVALID_SIGNAL', err.message, viewer.invalid >= MAX_INVALID_SIGNALS ? WS_CLOSE_POLICY_VIOLATION : undefined);
        }
        if (message.type === 'offer') {
          const refused = refusal(session);
          if (refused) return reject(viewer, refused.code, refused.message);
          viewer.offeredAt = Date.now();
          metrics.attempts.inc();
        }
        if (message.type === 'connection-state' && message.state === 'failed') {
          metrics.failures.inc({ reason: 'viewer: ' + (message.reason ?? 'failed').slice(0, 40) });
          metrics.fallbacks.inc();
        }
        metrics.signalingMessages.inc({ direction: 'viewer-to-agent' });
        if (!session.sendToAgent({ type: 'signal', viewerId: viewer.id, message })) {
          reject(viewer, 'ERR_AGENT_OFFLINE', 'the developer agent is not connected');
        }
      });
      ws.on('close', () => {
        metrics.signalingBytesPerViewer.observe(viewer.bytes);
        viewers.delete(viewer.id);
        release();
        if (viewers.size === 0 && sessions.get(session.id) === viewers) sessions.delete(session.id);
        session.sendToAgent({ type: 'viewer-left', viewerId: viewer.id });
      });
      ws.on('error', () => ws.terminate());
    },

    /** A `signal` envelope from the session's agent, relayed as it is (its error codes too). Unknown viewers are ignored (they left). */
    fromAgent(sessionId: string, viewerId: string, message: HostSignal<string>): void {
      const viewer = sessions.get(sessionId)?.get(viewerId);
      if (!viewer) return;
      metrics.signalingMessages.inc({ direction: 'agent-to-viewer' });
      sendToViewer(viewer, message);
    },

    /** A `peer-report` from the session's agent (metrics). */
    peerReport(report: PeerReportMessage): void {
      if (report.state === 'connected') {
        metrics.successes.inc();
        if (report.connectMs !== undefined) metrics.connectSeconds.observe(report.connectMs / 1000);
      } else if (report.state === 'failed') {
        metrics.failures.inc({ reason: (report.reason ?? 'unknown').slice(0, 40) });
        metrics.fallbacks.inc();
      }
      if (report.rttMs !== undefined) metrics.rttSeconds.observe(report.rttMs / 1000);
    },

    /** The session's agent went away: tell its viewers (they stay on the relay). */
    agentGone(sessionId: string): void {
      for (const v of sessions.get(sessionId)?.values() ?? []) sendToViewer(v, { type: 'bye', reason: 'agent disconnected' });
    },

    viewerCount(sessionId: string): number {
      return sessions.get(sessionId)?.size ?? 0;
    },

    /** Sessions the hub keeps state for: those with a viewer signaling now. */
    sessionCount(): number {
      return sessions.size;
    },

    close(): void {
      for (const viewers of sessions.values()) for (const v of viewers.values()) v.ws.close(1001, 'server closing');
      sessions.clear();
    },
  };
}
