/**
 * The `http.Agent` that takes the agent's WebSocket to the tunnel server
 * through a proxy (cli/proxy-config.ts picks which): an HTTP(S) proxy by
 * `CONNECT` (https-proxy-agent, also for `ws://`: a plain forward proxy does
 * not pass an upgrade reliably), a SOCKS proxy by socks-proxy-agent. The only
 * importer of both. Credentials in the URL are sent by them (Basic in
 * `Proxy-Authorization`; SOCKS5 user/password, RFC 1929).
 */
import type { Agent, ClientRequest } from 'node:http';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { SocksProxyAgent } from 'socks-proxy-agent';

export interface ProxyRoute {
  agent: Agent;
  /**
   * The HTTP proxy's answer to the CONNECT of `req`, when it had one: a
   * refused CONNECT (407, 403, 502) reaches the request as if the tunnel
   * server had answered it (https-proxy-agent replays it), so only this tells
   * the proxy's refusal from the server's.
   */
  connectStatus(req: ClientRequest): number | undefined;
}

export function createProxyRoute(proxyUrl: string): ProxyRoute {
  if (new URL(proxyUrl).protocol.startsWith('socks')) return { agent: new SocksProxyAgent(proxyUrl), connectStatus: () => undefined };
  const agent = new HttpsProxyAgent(proxyUrl);
  const statuses = new WeakMap<ClientRequest, number>();
  agent.on('proxyConnect', (connect: { statusCode: number }, req: ClientRequest) => statuses.set(req, connect.statusCode));
  return { agent, connectStatus: (req) => statuses.get(req) };
}
