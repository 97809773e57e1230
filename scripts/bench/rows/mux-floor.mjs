/**
 * Row "muxFloor": the floor of a multiplexed relay whose agent passes HTTP/1.1
 * bytes through unparsed (../mux-floor/). The server parses requests and
 * responses with Node's http server and client, the connections of its
 * keep-alive `http.Agent` being streams over one WebSocket to the agent; the
 * agent pipes each stream to its own TCP connection to the app. Minimal
 * framing and flow control, no logging: what such a design costs at best.
 */
import { resolve } from 'node:path';
import { spawnNode } from '../lib/children.mjs';
import { BENCH_DIR, START_TIMEOUT_MS } from '../lib/config.mjs';
import { startTargetApp } from './target.mjs';

export const muxFloorRow = {
  id: 'muxFloor',
  label: 'mux floor',
  unavailable: () => null,
  async start() {
    const app = await startTargetApp();
    const server = spawnNode('mux floor server', [resolve(BENCH_DIR, 'mux-floor', 'server.mjs')]);
    const port = Number((await server.waitEvent('listening', START_TIMEOUT_MS)).port);
    const agent = spawnNode('mux floor agent', [resolve(BENCH_DIR, 'mux-floor', 'agent.mjs'), String(port), String(app.port)]);
    await agent.waitEvent('ready', START_TIMEOUT_MS);
    return {
      port,
      host: `127.0.0.1:${port}`,
      info: {},
      procs: [agent, server, app.proc],
    };
  },
};
