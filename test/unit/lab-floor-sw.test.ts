/**
 * The workers of the lab's Service Worker floors (scripts/lab/floor-sw.mjs):
 * the lab's Vite app serves each from its public directory, and each is a
 * script a browser can run. What they cost a reload is measured by the lab
 * itself (`npm run lab -- --wan`, docs/lab-log.md §Reload floors).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { FLOOR_SHELL_SW_PATH, FLOOR_SW_PATH, FLOOR_WORKERS } from '../../scripts/lab/floor-sw.mjs';
import { writeViteApp } from '../../scripts/lab/vite-app-source.mjs';

describe('the lab floor workers', () => {
  it("are served from the Vite app's public directory, each a script that compiles", () => {
    expect(FLOOR_WORKERS.map(([path]) => path)).toEqual([FLOOR_SW_PATH, FLOOR_SHELL_SW_PATH]);
    const dir = mkdtempSync(join(tmpdir(), 'wm-floor-sw-'));
    try {
      writeViteApp(dir, join(__dirname, '../../node_modules'));
      for (const [path, source] of FLOOR_WORKERS) {
        expect(readFileSync(join(dir, 'public', path), 'utf8')).toBe(source);
        expect(() => new Script(source)).not.toThrow();
        // Not empty: Chromium skips a worker whose fetch handler does nothing.
        expect(source).toMatch(/addEventListener\('fetch', \(event\) => \{\n\s+\S/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
