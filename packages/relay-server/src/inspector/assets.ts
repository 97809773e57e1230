/**
 * The inspector page: plain HTML, CSS and a hand-written script kept in
 * `assets/inspector/` of this package (no framework, no build step), read
 * once when the inspector starts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** From src/inspector (tests) and dist/inspector (the bin) alike. */
const ASSET_DIR = join(__dirname, '..', '..', 'assets', 'inspector');

const FILES: Array<[urlPath: string, file: string, contentType: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/inspector.js', 'inspector.js', 'text/javascript; charset=utf-8'],
  ['/inspector.css', 'inspector.css', 'text/css; charset=utf-8'],
  ['/viewers.js', 'viewers.js', 'text/javascript; charset=utf-8'],
];

export function inspectorAssets() {
  return new Map(FILES.map(([urlPath, file, contentType]) => [urlPath, { contentType, body: readFileSync(join(ASSET_DIR, file)) }]));
}
