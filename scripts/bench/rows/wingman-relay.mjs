/**
 * Row "wingman relay": `wingman-server` + `wingman http <app port>` (the built
 * bins), requests sent to the server with the session's Host header.
 */
import { existsSync } from 'node:fs';
import { spawnNode } from '../lib/children.mjs';
import { AGENT_BIN, SERVER_BIN, START_TIMEOUT_MS } from '../lib/config.mjs';
import { startTargetApp } from './target.mjs';

/** Starts server + agent for a target port; shared with the P2P row. */
export async function startWingman(appPort, agentEnv = {}) {
  const server = spawnNode('wingman-server', [SERVER_BIN, '--port', '0', '--json'], { env: { LOG_LEVEL: 'warn' } });
  const listening = await server.waitEvent('listening', START_TIMEOUT_MS);
  // --new-session: never resume a session a previous run left behind for this server and port.
  const agent = spawnNode('wingman agent', [AGENT_BIN, 'http', String(appPort), '--server', String(listening.url), '--json', '--new-session'], {
    // WINGMAN_PUBLIC: the bench reaches the session by its host name (link access is not what it measures).
    env: { WINGMAN_PUBLIC: '1', ...agentEnv },
  });
  const ready = await agent.waitEvent('ready', START_TIMEOUT_MS);
  const url = new URL(String(ready.url));
  if (!/\.localhost$/.test(url.hostname)) throw new Error(`agent printed ${ready.url}; the bench expects a *.localhost session URL`);
  return { server, agent, serverPort: Number(listening.port), url: url.href, host: url.host, sessionId: String(ready.sessionId) };
}

export const wingmanRelayRow = {
  id: 'wingmanRelay',
  label: 'wingman relay',
  unavailable() {
    for (const bin of [SERVER_BIN, AGENT_BIN]) if (!existsSync(bin)) return `${bin} is missing (run npm run build)`;
    return null;
  },
  async start() {
    const app = await startTargetApp();
    const w = await startWingman(app.port);
    return {
      port: w.serverPort,
      host: w.host,
      info: { url: w.url },
      procs: [w.agent, w.server, app.proc],
    };
  },
};
