/**
 * The P2P path for cpu-profile.mjs: tunnel server, agent and target app as the P2P row starts
 * them, and in this process the project's Node viewer, whose 1 KiB GETs the agent's P2P host
 * process carries over its wrtc data channel. Needs a loopback-only network namespace
 * (cpu-profile.mjs enters one). The host processes are the agent's children: `hostPids()`
 * names them before the row's processes are stopped, so the caller can wait for their profiles.
 */
import { createRequire } from 'node:module';
import { PROBE_TIMEOUT_MS, REQUEST_MODULE, SMALL_PATH, START_TIMEOUT_MS, VIEWER_MODULE } from '../lib/config.mjs';
import { childPids } from '../lib/proc.mjs';
import { p2pNodeRow } from './p2p-node.mjs';
import { startTargetApp } from './target.mjs';
import { startWingman } from './wingman-relay.mjs';

const require = createRequire(import.meta.url);

export const p2pProfileRow = {
  id: p2pNodeRow.id,
  label: p2pNodeRow.label,
  unavailable: p2pNodeRow.unavailable,
  async start() {
    const app = await startTargetApp();
    const w = await startWingman(app.port);
    const { connectP2PViewer } = require(VIEWER_MODULE);
    const { requestOver } = require(REQUEST_MODULE);
    const viewer = await connectP2PViewer({ url: w.url, timeoutMs: START_TIMEOUT_MS });
    return {
      procs: [w.agent, w.server, app.proc],
      hostPids: () => childPids(Number(w.agent.child.pid)),
      /** One 1 KiB GET over the data channel, its body read whole. */
      async get() {
        const res = await requestOver(viewer.connection, { target: SMALL_PATH, headers: [['host', w.host]] }, PROBE_TIMEOUT_MS);
        const body = await res.bytes();
        if (res.status !== 200 || body.length !== 1024) throw new Error(`P2P GET: HTTP ${res.status}, ${body.length} bytes`);
      },
      close: () => viewer.close(),
    };
  },
};
