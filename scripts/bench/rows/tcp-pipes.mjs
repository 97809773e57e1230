/**
 * Row "tcpPipes": the target app behind two bare TCP pipes in two processes
 * (../tcp-pipe.mjs), i.e. client → pipe → pipe → app. It relays nothing a
 * tunnel needs (no HTTP parsing, no framing, no multiplexing), so it is not a
 * competitor: it is the floor under every two-process relay on this machine
 * (Wingman's tunnel server + agent, localtunnel's server + client), measured
 * in the same run. The goal report holds the relay to a fraction of it.
 */
import { resolve } from 'node:path';
import { spawnNode } from '../lib/children.mjs';
import { BENCH_DIR, START_TIMEOUT_MS } from '../lib/config.mjs';
import { startTargetApp } from './target.mjs';

async function startPipe(name, targetPort) {
  const proc = spawnNode(name, [resolve(BENCH_DIR, 'tcp-pipe.mjs'), String(targetPort)]);
  const ev = await proc.waitEvent('listening', START_TIMEOUT_MS);
  return { proc, port: Number(ev.port) };
}

export const tcpPipesRow = {
  id: 'tcpPipes',
  label: 'two bare TCP pipes',
  unavailable: () => null,
  async start() {
    const app = await startTargetApp();
    const inner = await startPipe('tcp pipe (app side)', app.port);
    const outer = await startPipe('tcp pipe (client side)', inner.port);
    return {
      port: outer.port,
      host: `127.0.0.1:${outer.port}`,
      info: {},
      procs: [outer.proc, inner.proc, app.proc],
    };
  },
};
