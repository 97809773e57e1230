/**
 * `wingman fetch <session-url>`: fetch one URL of a session the way a
 * reviewer's browser would — peer-to-peer over a data channel when the
 * session allows it, through the tunnel server's relay otherwise — and
 * report which path served it. A diagnosis tool ("does P2P work from
 * here?") and a scripting aid. The body goes to stdout.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Writable } from 'node:stream';
import { shortFingerprint, splitLinkKey, type ChannelFingerprints } from '@wingman/protocol';
import { connectP2PViewer, viewerHeaders } from '../viewer/p2p-viewer';
import { localhostLookup } from '../viewer/localhost-lookup';
import { requestOver } from '../viewer/request';
import { UsageError } from './options';
import { createProxyRoute, type ProxyRoute } from '../agent/proxy-agent';
import { connectionProblem, proxyRefusal } from '../agent/proxy-errors';
import { exitCodeFor } from './exit-codes';
import { displayProxy, resolveProxy } from './proxy-config';

export interface FetchFlags {
  /** Fail instead of falling back to the relay. */
  p2pOnly?: boolean;
  /** Skip P2P. */
  relayOnly?: boolean;
  /** P2P connect deadline, ms. */
  timeout?: string;
  /** The session's viewer password (also accepted as the URL's user info: http://:PASSWORD@<id>.…). */
  password?: string;
  /** The proxy to the server, as `wingman http --proxy` ('' : none, whatever the environment says). */
  proxy?: string;
}

interface FetchIo {
  stdout: Writable;
  stderr: { write(s: string): unknown };
  /** Where HTTPS_PROXY, http_proxy, ALL_PROXY and NO_PROXY are read, as for the agent's connection. */
  env: NodeJS.ProcessEnv;
}

/** Default P2P deadline before falling back, ms (a LAN connects in < 1 s). */
const DEFAULT_FETCH_P2P_TIMEOUT_MS = 5_000;

/** What the P2P channel's checks established (docs/PROTOCOL.md §Verified channels). */
function verification(viewer: { verified: boolean; fingerprints?: ChannelFingerprints }): string {
  if (!viewer.verified || !viewer.fingerprints) return 'unverified: the link has no key (#k=…), so the channel could end at the tunnel server';
  return `verified: the channel ends at the holder of the link key (agent ${shortFingerprint(viewer.fingerprints.agent)}…, this viewer ${shortFingerprint(viewer.fingerprints.viewer)}…)`;
}

/** `keepPeer`: leave the P2P viewer's peer connection open, the caller ends the process right after (see CliIo.exitNow). */
export async function runFetch(urlText: string, flags: FetchFlags, io: FetchIo, options: { keepPeer?: boolean } = {}): Promise<number> {
  if (!URL.canParse(urlText)) throw new UsageError(`invalid URL "${urlText}"`);
  const url = new URL(urlText);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('the URL must be http: or https:');
  const timeoutMs = flags.timeout === undefined ? DEFAULT_FETCH_P2P_TIMEOUT_MS : Number(flags.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) throw new UsageError('--timeout must be 1..600000 ms');
  const target = `${url.pathname}${url.search}`;
  const started = Date.now();
  const password = flags.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  url.username = '';
  url.password = '';
  // The agent's own decision (cli/proxy-config.ts): signaling and the relay go through the proxy; a P2P channel does not.
  const proxyConfig = resolveProxy(url.href, flags.proxy, io.env);
  const proxy = proxyConfig ? { route: createProxyRoute(proxyConfig.url), shown: displayProxy(proxyConfig.url) } : undefined;
  if (proxy && proxyConfig) io.stderr.write(`wingman fetch: through the proxy ${proxy.shown} (${proxyConfig.source})\n`);
  // With the link's access token, for a session that opens only to the full link.
  const auth = viewerHeaders(password, splitLinkKey(url.hash).key);

  if (!flags.relayOnly) {
    try {
      const viewer = await connectP2PViewer({
        url: url.href,
        timeoutMs,
        ...(password !== undefined ? { password } : {}),
        ...(proxy ? { agent: proxy.route.agent } : {}),
      });
      try {
        const res = await requestOver(viewer.connection, {
          target,
          headers: [
            ['host', url.host],
            ['user-agent', 'wingman-fetch'],
          ],
        });
        for await (const chunk of res.chunks()) if (!io.stdout.write(chunk)) await new Promise((r) => io.stdout.once('drain', r));
        io.stderr.write(`wingman fetch: ${res.status} via p2p (connected in ${viewer.connectMs} ms, total ${Date.now() - started} ms)\n`);
        io.stderr.write(`wingman fetch: ${verification(viewer)}\n`);
        return res.status < 400 ? 0 : 1;
      } finally {
        // With keepPeer the caller ends the process at once (CliIo.exitNow): the agent is told, but no wrtc teardown runs here to crash in.
        if (options.keepPeer) await viewer.leave();
        else viewer.close();
      }
    } catch (err) {
      if (flags.p2pOnly) {
        io.stderr.write(`wingman fetch: P2P failed: ${(err as Error).message}\n`);
        return 1;
      }
      io.stderr.write(`wingman fetch: P2P unavailable (${(err as Error).message}); using the relay\n`);
    }
  }
  return relayFetch(url, { 'user-agent': 'wingman-fetch', ...auth }, io, started, proxy);
}

/** The fetch over the tunnel server's relay (through `proxy` when there is one): its exit code. */
function relayFetch(url: URL, headers: Record<string, string>, io: FetchIo, started: number, proxy?: { route: ProxyRoute; shown: string }): Promise<number> {
  return new Promise<number>((resolve) => {
    const fail = (problem: { code: string; message: string }) => {
      io.stderr.write(`wingman fetch: ${problem.message.replaceAll('the tunnel server', 'the server')}\n`);
      resolve(exitCodeFor(problem.code));
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { lookup: localhostLookup, headers, ...(proxy ? { agent: proxy.route.agent } : {}) },
      (res) => {
        // A refused CONNECT reaches the request as the server's answer (proxy-agent.ts).
        const refusal = proxyRefusal(proxy, req, url.href);
        if (refusal) {
          res.resume();
          return fail(refusal);
        }
        res.pipe(io.stdout, { end: false });
        res.on('end', () => {
          io.stderr.write(`wingman fetch: ${res.statusCode} via ${res.headers['x-wingman-transport'] ?? 'unknown'} (total ${Date.now() - started} ms)\n`);
          resolve((res.statusCode ?? 500) < 400 ? 0 : 1);
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => void connectionProblem(err, url.href, proxy, localhostLookup).then(fail));
    req.end();
  });
}
