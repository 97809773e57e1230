/**
 * What `wingman http` prints: a banner, request lines and one-line problems,
 * or with `--json` one object per line on stdout, the first `ready` (scripts
 * read the URL from it), so earlier output goes to stderr; a fatal error is
 * always stdout's last line.
 */
import { shortViewerId, type AddressRules, type ViewerGateMode, type WarningCode } from '@wingman/protocol';
import type { RequestLogEntry } from '../forward';
import type { ReadyEvent } from '../agent';
import type { PeerReport } from '../p2p/peer-host';
import type { ViewerEntry } from '../viewers/viewer-roster';
import { renderQr, shouldPrintQr, type QrChoice } from './qr';
import { coalescedOutput, type Output } from './coalesced-output';
import { PASSWORD_WORDS, PRIVATE_WORDS } from './terminal-screen';
import { browserP2P, BROWSER_P2P_WORDS } from './browser-p2p';
import { printable, terminalSafeJson } from './printable';

export interface Reporter {
  /** `inspector`: its URL when it runs; `routes`: each prefix with its target's origin. */
  ready(event: ReadyEvent, forwardingTo: string, inspector?: string, routes?: ReadonlyArray<{ prefix: string; target: string }>): void;
  request(entry: RequestLogEntry): void;
  /** Connected, failed → relay, closed. */
  peer(report: PeerReport): void;
  /** Waiting, admitted, refused. */
  viewer?(entry: ViewerEntry, mode: ViewerGateMode | undefined): void;
  reconnecting(event: { attempt: number; delayMs: number; reason: string }): void;
  /** Only `--json` says it: elsewhere the 'reconnecting' line that follows carries the same reason. */
  disconnected?(event: { reason: string }): void;
  /** `viewer`: its full id, when one is concerned; `--json` carries it, the message names it. */
  warning(code: WarningCode, message: string, about?: { viewer?: string }): void;
  fatal(code: string, message: string): void;
  closing(): void;
}

/** The server forgot a resumed URL's viewers because its access changed (ReadyEvent.viewersReset). */
export function viewersResetWords(reset: NonNullable<ReadyEvent['viewersReset']>): string {
  return `access changed since this link's last run (${reset.from} → ${reset.to}): every viewer let in before must get in again`;
}

/** `tunnel` (`wingman start`): JSON lines carry `"tunnel":name`, human lines start with it padded to `tunnelWidth`. */
export function createReporter(options: { json: boolean; stdout: Output; stderr: Output; qr?: QrChoice; tunnel?: string; tunnelWidth?: number }): Reporter {
  const { tunnel } = options;
  const prefix = tunnel !== undefined && !options.json ? `${tunnel.padEnd(options.tunnelWidth ?? 0)}  ` : '';
  // Outsiders' text loses its control characters (printable.ts); human lines of a named tunnel start with its name.
  const clean = (o: Output): Output => ({
    isTTY: o.isTTY,
    write: (text) => o.write(options.json ? terminalSafeJson(text) : printable(prefix ? text.replace(/^(?=.)/gm, prefix) : text)),
  });
  // Request lines leave in batches (coalesced-output.ts); every other line flushes them first.
  const stdout = coalescedOutput(clean(options.stdout));
  const stderr = clean(options.stderr);
  let readySeen = false;

  if (options.json) {
    const line = (o: Record<string, unknown>) => JSON.stringify(tunnel !== undefined ? { ...o, tunnel } : o) + '\n';
    const event = (o: Record<string, unknown>) => (readySeen ? stdout : stderr).write(line(o));
    return {
      ready(e, forwardingTo, inspector, routes) {
        stdout.write(
          line({
            event: 'ready',
            url: e.url,
            sessionId: e.sessionId,
            ...(e.link !== undefined ? { link: e.link } : {}),
            ...(e.named ? { name: e.sessionId } : {}),
            resumed: e.resumed,
            p2p: e.p2p,
            access: e.access,
            ...(e.viewers !== undefined ? { viewers: e.viewers } : {}),
            ...(e.viewersReset ? { viewersReset: e.viewersReset } : {}),
            target: forwardingTo,
            ...(e.proxy !== undefined ? { proxy: e.proxy } : {}),
            ...(e.addressRules !== undefined ? { addressRules: e.addressRules } : {}),
            ...(e.allowEmails !== undefined ? { allowEmails: e.allowEmails } : {}),
            ...(routes && routes.length > 0 ? { routes: Object.fromEntries(routes.map((r) => [r.prefix, r.target])) } : {}),
            ...(inspector ? { inspector } : {}),
            ...(e.expiresAt !== undefined ? { expiresAt: new Date(e.expiresAt).toISOString() } : {}),
          }),
        );
        readySeen = true;
      },
      request: (e) => (readySeen ? stdout.writeLater(line({ event: 'request', ...e })) : stderr.write(line({ event: 'request', ...e }))),
      peer: (r) => event({ event: 'peer', ...r }),
      viewer: (v) =>
        event({ event: 'viewer', id: v.id, state: v.state, address: v.address, userAgent: v.userAgent, ...(v.email !== undefined ? { email: v.email } : {}) }),
      reconnecting: (e) => event({ event: 'reconnecting', ...e }),
      disconnected: (e) => event({ event: 'disconnected', ...e }),
      warning: (code, message, about) =>
        stderr.write(line({ event: 'warning', code, message, ...(about?.viewer !== undefined ? { viewer: about.viewer } : {}) })),
      fatal: (code, message) => stdout.write(line({ event: 'fatal', code, message })),
      closing: () => event({ event: 'closed' }),
    };
  }

  /** The rules' CIDRs themselves (the developer wrote them). */
  const addressRulesWords = (r: AddressRules) =>
    [r.allow.length > 0 ? `only from ${r.allow.join(', ')}` : 'from any address', r.deny.length > 0 ? `never from ${r.deny.join(', ')}` : '']
      .filter(Boolean)
      .join('; ') + ' (address rules)';

  /**
   * Only the agent's WebSocket takes the proxy: wrtc has no proxy setting, so neither P2P nor TURN
   * (over TCP or TLS) goes through it, and a network whose only way out is the proxy leaves remote
   * viewers on the relay, while a viewer on this LAN still reaches this machine directly.
   */
  const proxyWords = (shown: string, p2p: boolean) =>
    p2p
      ? `connected through the proxy ${shown}: signaling and the relay go through it, WebRTC does not (no TURN through a proxy): P2P only where WebRTC finds a way of its own (a viewer on this LAN, a network that lets UDP out), else viewers use the relay`
      : `connected through the proxy ${shown}: the relay goes through it`;

  return {
    ready(e, forwardingTo, inspector, routes) {
      const reset = e.viewersReset ? `${viewersResetWords(e.viewersReset)}\n` : '';
      if (readySeen) {
        stdout.write((e.resumed ? `Reconnected: ${e.url} (same URL)\n` : `Reconnected with a NEW URL: ${e.url}\n`) + reset);
        return;
      }
      readySeen = true;
      if (tunnel !== undefined) {
        stdout.write(
          `${e.url}  → ${forwardingTo}${e.private ? '  (private)' : ''}${e.access === 'password' ? '  (password)' : ''}${e.expiresAt !== undefined ? `  (expires at ${new Date(e.expiresAt).toLocaleString()})` : ''}\n${reset}`,
        );
        return;
      }
      const link = e.link ?? e.url;
      const qr = shouldPrintQr(options.qr, link, stdout.isTTY === true) ? `\n${renderQr(link)}\n` : '';
      stdout.write(
        `\nWingman: share this link\n\n    ${link}\n${qr}${e.private ? `    ${PRIVATE_WORDS}\n` : ''}${e.access === 'password' ? `    ${PASSWORD_WORDS}\n` : ''}${e.viewers === 'approve' ? '    viewers wait until you admit them (--approve)\n' : ''}${e.addressRules ? `    ${addressRulesWords(e.addressRules)}\n` : ''}${e.allowEmails ? `    viewers sign in; only ${e.allowEmails.join(', ')} get in\n` : ''}${e.expiresAt !== undefined ? `    expires at ${new Date(e.expiresAt).toLocaleString()}\n` : ''}${reset ? `    ${reset}` : ''}\nforwarding to ${forwardingTo} (${BROWSER_P2P_WORDS[browserP2P(e.p2p, e.url)]})\n${(routes ?? []).map((r) => `  ${r.prefix} → ${r.target}\n`).join('')}${e.proxy !== undefined ? `${proxyWords(e.proxy, e.p2p)}\n` : ''}${inspector ? `inspect requests at ${inspector}\n` : ''}Ctrl+C to stop.\n\n`,
      );
    },
    request(e) {
      const status = e.status === 0 ? (e.error ?? 'reset') : String(e.status);
      const path = e.target.length > 80 ? `${e.target.slice(0, 77)}...` : e.target;
      stdout.writeLater(`${e.method.padEnd(7)} ${path.padEnd(40)} ${status.padStart(3)} ${String(e.ms).padStart(6)} ms  ${e.transport}\n`);
    },
    peer(r) {
      const what =
        r.state === 'connected'
          ? `connected peer-to-peer in ${r.connectMs ?? '?'} ms`
          : r.state === 'failed'
            ? `P2P failed (${r.reason ?? 'unknown'}); this viewer stays on the relay`
            : `P2P closed (${r.reason ?? 'closed'})`;
      stdout.write(`viewer ${shortViewerId(r.viewer ?? r.viewerId)}  ${what}\n`);
    },
    viewer(v, mode) {
      const id = shortViewerId(v.id);
      const who = v.email !== undefined ? ` (signed in as ${v.email})` : '';
      // With a link alone every viewer is admitted at once: said only when it signed in (who it is).
      if (mode !== 'approve') {
        if (v.email !== undefined && v.state === 'admitted') stdout.write(`viewer ${id} from ${v.address} signed in as ${v.email}\n`);
        return;
      }
      stdout.write(
        v.state === 'waiting'
          ? `viewer ${id}${who} from ${v.address} waits to be let in (${v.userAgent || 'no User-Agent'})\n`
          : `viewer ${id}${who} ${v.state}\n`,
      );
    },
    reconnecting(e) {
      stderr.write(`${e.reason}; retrying in ${(e.delayMs / 1000).toFixed(1)} s (attempt ${e.attempt})...\n`);
    },
    warning(_code, message) {
      stderr.write(`warning: ${message}\n`);
    },
    fatal(code, message) {
      // --expires is the end the developer asked for.
      if (code === 'ERR_SESSION_EXPIRED') stdout.write(`${message}\n`);
      else stderr.write(`error: ${message}\n`);
    },
    closing() {
      stderr.write('closing the tunnel...\n');
    },
  };
}
