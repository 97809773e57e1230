/**
 * One tunnel: its resume slot, forwarder, agent connection and P2P host.
 * `wingman http` runs one, `wingman start` one per named tunnel; resolves
 * with its exit code.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { linkWithKey, shortViewerId } from '@wingman/protocol';
import { createAgent, createFileResumeStore, createMemoryResumeStore, defaultStateDir, resumeKey, type ResumeStore } from '../agent';
import { acquireInstanceSlot, MAX_INSTANCE_SLOTS, slotKey } from '../agent/instance-slot';
import { namedLinkKey } from '../agent/named-link-key';
import { reaches } from '../agent/server-errors';
import { displayProxy } from './proxy-config';
import { createExchangeRecord, createForwarder, DEFAULT_RESPONSE_TIMEOUT_MS, formatHostPort, targetOrigin, type ForwardSettings } from '../forward';
import type { RequestLogEntry } from '../forward';
import { createInspector, type InspectorTunnel } from '../inspector';
import { attachP2P } from '../p2p/agent-p2p';
import { attachViewerRoster, type ViewerRoster } from '../viewers/viewer-roster';
import { exitCodeFor } from './exit-codes';
import type { HttpConfig } from './options';
import type { Reporter } from './reporter';
import { isLoopbackHost } from '../loopback-host';

interface TunnelRunOptions {
  config: HttpConfig;
  reporter: Reporter;
  env: NodeJS.ProcessEnv;
  /** SIGINT/SIGTERM: close gracefully, resolve 0. */
  signal: AbortSignal;
  inspector?: { tunnel: InspectorTunnel; url: string };
  onRtt?(viewerId: string, rttMs: number): void;
  /** The terminal view's admit/revoke keys. */
  onViewers?(roster: ViewerRoster): void;
  /** A hint appended to a fatal error's message (human output only). */
  fatalHint?(error: { code: string; message: string }): string;
}

/** A refused or silent port answers within this on loopback; a remote host gets the same bound, ms. */
const PROBE_TIMEOUT_MS = 2_000;

export function runTunnel({ config, reporter, env, signal, inspector, onRtt, onViewers, fatalHint }: TunnelRunOptions): Promise<number> {
  const noRestartResume = (why: string) =>
    reporter.warning('WARN_STATE_FILE', `cannot keep the session for a restart (${why}); the URL will change if wingman restarts`);
  const slot = openResumeSlot(config, env, noRestartResume);
  // docs/PROTOCOL.md §Link access: kept with the session for a resume; a stable name's per server and name.
  const namedKey =
    config.name === undefined
      ? undefined
      : namedLinkKey(defaultStateDir(env), config.server, config.name, (e) =>
          reporter.warning(
            'WARN_STATE_FILE',
            `cannot keep the link key of --name ${config.name} (${e.message}); the link's #k= part will change if wingman restarts`,
          ),
        );
  const capture = inspector ? { capture: inspector.tunnel.capture } : {};
  const forward = forwardSettings(config);
  const proxy = config.proxy !== undefined ? { url: config.proxy.url, shown: displayProxy(config.proxy.url) } : undefined;
  // Of a request sent both over P2P and the relay, the copy whose claim came second is refused.
  const exchanges = createExchangeRecord();
  // Each forwarded request, relay or P2P: the developer's line, and the next spare P2P host waits for a quiet moment.
  const onRequest = (entry: RequestLogEntry) => (p2p?.requestSeen(), reporter.request(entry));
  const forwarder = createForwarder({ ...forward, onRequest, ...capture, exchanges });
  // The config's session options under their AgentOptions names (server, token, name, expiresInMs, addressRules, private…).
  const agent = createAgent({
    ...config,
    forwarder,
    resumeStore: slot.store,
    linkKey: namedKey,
    viewerPassword: config.password,
    proxy,
    viewers: config.approve ? 'approve' : 'open',
  });
  const p2p = config.p2p
    ? attachP2P({
        agent,
        forward,
        exchanges,
        acceptLoopbackCandidates: isLoopbackHost(new URL(config.server).hostname),
        ...(config.private ? { requireLinkKey: true } : {}),
        onUntrusted: (u) =>
          reporter.warning(
            'WARN_UNTRUSTED_SIGNAL',
            `refused ${u.what === 'signal-mac' ? `a signaling message (${u.reason})` : `a data channel (${u.reason})`} of viewer ${u.viewerId}: the tunnel server or its path altered it (${u.count} refused so far)`,
          ),
        onRequest,
        ...capture,
        onPeer: (r) => reporter.peer(r),
        ...(onRtt ? { onRtt } : {}),
        onHostCrash: (c) =>
          reporter.warning(
            'WARN_P2P_HOST_CRASHED',
            `a P2P host process (pid ${c.pid ?? 'none'}) ${c.beforeReady ? 'failed to start' : 'ended'} (${c.spawnError ?? c.signal ?? `exit code ${c.code}`}); ${c.viewers} viewer(s) moved to the relay${c.beforeReady ? '; P2P is tried again with the next start' : ''}`,
          ),
      })
    : undefined;
  const roster = attachViewerRoster(agent, () => p2p);
  roster.on('viewer', (v) => reporter.viewer?.(v, roster.mode));
  inspector?.tunnel.addViewers(roster);
  onViewers?.(roster);

  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      signal.removeEventListener('abort', onAbort);
      p2p?.close();
      void agent.close().then(() => {
        forwarder.close();
        slot.release();
        resolve(code);
      });
    };
    const onAbort = () => {
      reporter.closing();
      finish(0);
    };
    /** Once per run, with the first banner. */
    let warnedUnverified = false;
    agent.on('ready', (e) => {
      inspector?.tunnel.setTunnel({ publicUrl: e.url, sessionId: e.sessionId, p2p: e.p2p, access: e.access });
      reporter.ready(
        { ...e, link: linkWithKey(e.url, e.linkKey), proxy: proxy?.shown, addressRules: config.addressRules, allowEmails: config.allowEmails },
        targetOrigin(config.target),
        inspector?.url,
        config.routes.map((r) => ({ prefix: r.prefix, target: targetOrigin(r.target) })),
      );
      if (config.target.insecure && !warnedUnverified) {
        warnedUnverified = true;
        reporter.warning(
          'WARN_TARGET_TLS_UNVERIFIED',
          `--target-insecure: the certificate of ${targetOrigin(config.target)} is not verified (a loopback target: only a process on this machine can answer there)`,
        );
      }
      if (config.public && !e.resumed)
        reporter.warning(
          'WARN_PUBLIC_SESSION',
          "--public: anyone who knows the session's host name may open it, without the link's #k= part; session host names are discoverable (certificate transparency logs, DNS)",
        );
    });
    agent.on('control', (m) => {
      if (m.type === 'viewer-own-sw')
        reporter.warning(
          'WARN_VIEWER_OWN_SW',
          `${m.visitorId !== undefined ? `viewer ${shortViewerId(m.visitorId)}: its app` : "a viewer's app"} registered its own Service Worker (${m.script || 'unnamed'}): Wingman stepped aside for that browser, which is served over the relay (no P2P) so the app's worker controls its pages`,
          m.visitorId !== undefined ? { viewer: m.visitorId } : undefined,
        );
    });
    agent.on('reconnecting', (e) => reporter.reconnecting(e));
    agent.on('disconnected', (e) => reporter.disconnected?.(e));
    agent.on('fatal', (e) => {
      if (e.code === 'ERR_SESSION_EXPIRED') {
        reporter.fatal(e.code, config.json ? e.message : 'the session expired (--expires): the link no longer works');
        return finish(0);
      }
      reporter.fatal(e.code, e.message + (config.json || !fatalHint ? '' : fatalHint(e)));
      finish(exitCodeFor(e.code));
    });
    if (signal.aborted) return finish(0);
    signal.addEventListener('abort', onAbort, { once: true });
    // Once, so the developer hears about a stopped app before a viewer does: a TCP connection that opens (closed at once).
    void reaches(connect({ host: config.target.host, port: config.target.port }), 'connect', PROBE_TIMEOUT_MS).then((listening) => {
      if (!listening && !finished)
        reporter.warning('WARN_TARGET_DOWN', `nothing listening on ${formatHostPort(config.target)} yet; viewers get a 502 until it starts`);
    });
    agent.start();
  });
}

/** What the tunnel's forwarders, the P2P host's and the inspector's replays are told of its app. */
export function forwardSettings(config: HttpConfig): ForwardSettings {
  return {
    target: config.target,
    routes: config.routes,
    hostHeader: config.hostHeader,
    timeoutMs: config.timeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
    wsMaxMessageBytes: config.wsMaxMessageBytes,
    ...(config.headerRules !== undefined ? { headerRules: config.headerRules } : {}),
  };
}

/** Started before the tunnels so its URL is in the banner; undefined when off or no port was free (a warning says so, `hint` what to change). */
export async function startInspector(options: HttpConfig['inspect'], reporter: Reporter, hint: string) {
  if (!options) return undefined;
  const inspector = createInspector(options);
  try {
    return Object.assign(inspector, { url: await inspector.start() });
  } catch (err) {
    reporter.warning('WARN_INSPECTOR_UNAVAILABLE', `the inspector is off: ${(err as Error).message} (${hint} picks another)`);
    return undefined;
  }
}

/**
 * The saved session of one running agent of a server and target: a numbered
 * slot (agent/instance-slot.ts) and the resume store kept under it; none to
 * be had, the session is kept in memory and `warn` says why. `release` frees the slot.
 */
function openResumeSlot(config: HttpConfig, env: NodeJS.ProcessEnv, warn: (why: string) => void): { store: ResumeStore; release(): void } {
  const stateDir = defaultStateDir(env);
  const key = resumeKey(config.server, config.target);
  let slot: ReturnType<typeof acquireInstanceSlot>;
  try {
    slot = acquireInstanceSlot(stateDir, key);
    if (!slot) warn(`${MAX_INSTANCE_SLOTS} agents already run for this server and port`);
  } catch (err) {
    warn((err as Error).message);
  }
  const store = slot
    ? createFileResumeStore({ file: join(stateDir, 'sessions.json'), key: slotKey(key, slot.slot), onError: (e) => warn(e.message) })
    : createMemoryResumeStore();
  if (config.newSession) store.clear();
  return { store, release: () => slot?.release() };
}
