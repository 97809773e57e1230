/**
 * The developer's app in the dev namespace: the fixture app (node:http, the
 * default run and CI) or the generated Vite React app with HMR (WAN runs).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInNamespace } from './proc.mjs';
import { writeViteApp } from './vite-app-source.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE_APP = join(ROOT, 'scripts/lab/fixture-app.mjs');
const VITE_APP = join(ROOT, 'scripts/lab/vite-app.mjs');
/** Vite's own default port; the dev namespace is the app's alone. */
export const VITE_PORT = 5173;
/** The fixture app is up within a second or two; 20 s covers a loaded 2-core CI machine. */
const FIXTURE_START_TIMEOUT_MS = 20_000;
/** Vite pre-bundles React and the warm-up transforms ~330 modules: ~5 s idle, much longer under load. */
const VITE_START_TIMEOUT_MS = 120_000;

/**
 * @typedef {'fixture' | 'vite'} AppKind
 * @typedef {{ file: string, selector: string, text: (version: number) => string, source: (version: number) => string }} HmrProbe
 * @typedef {{ process: import('./proc.mjs').LabProcess, port: number, kind: AppKind, modules: number | null, hmr: HmrProbe | null }} LabApp
 */

/**
 * @param {{ ns: string, dir: string, kind: AppKind, host: string }} o host: 127.0.0.1 (shared by the agent) or 0.0.0.0 (reached through a port forward)
 * @returns {Promise<LabApp>}
 */
export async function startLabApp({ ns, dir, kind, host }) {
  if (kind === 'fixture') {
    const proc = startInNamespace({ name: 'fixture-app', ns, command: process.execPath, args: [FIXTURE_APP, host] });
    const { port } = await proc.waitFor((e) => e.event === 'listening', FIXTURE_START_TIMEOUT_MS, 'listening');
    return { process: proc, port: Number(port), kind, modules: null, hmr: null };
  }
  if (kind !== 'vite') throw new Error(`unknown app kind ${kind}`);
  const appDir = join(dir, 'vite-app');
  const { modules, hmr } = writeViteApp(appDir, join(ROOT, 'node_modules'));
  const proc = startInNamespace({
    name: 'vite',
    ns,
    command: process.execPath,
    args: [VITE_APP, JSON.stringify({ dir: appDir, host, port: VITE_PORT })],
    cwd: ROOT,
  });
  await proc.waitFor((e) => e.event === 'listening', VITE_START_TIMEOUT_MS, 'listening');
  return { process: proc, port: VITE_PORT, kind, modules, hmr };
}
