/**
 * Generates the lab's Vite React app into a directory: a real app shape
 * with a few hundred unbundled ES modules — main → App → SECTIONS section
 * modules → COMPONENTS_PER_SECTION component modules each → one shared
 * helper — so a cold visit pays Vite's module waterfall (five levels of
 * imports, one request per module). App's effect sets the ready marker
 * (window.pageName = "home", window.appReadyAt). One component (HMR_MODULE)
 * is the file the lab edits to measure a hot update.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLOOR_WORKERS } from './floor-sw.mjs';

/** 20 sections × 15 components + main, App, the helper: 323 app modules (plus React's pre-bundled ones). */
const SECTIONS = 20;
const COMPONENTS_PER_SECTION = 15;
/** The component the lab edits (in the middle, so the update is not a special case of the first or last). */
const HMR_INDEX = 150;

const pad = (n, w) => String(n).padStart(w, '0');
const componentName = (i) => `C${pad(i, 3)}`;
const sectionName = (s) => `S${pad(s, 2)}`;

/** The text component `i` shows at edit `version` (the HMR probe waits for the new one). */
export function componentText(i, version) {
  return `c${i} v${version}`;
}

function componentSource(i, version) {
  return `import { label } from '../util/label.js';

export default function ${componentName(i)}() {
  return <li id="c${i}" title={label(${i})}>${componentText(i, version)}</li>;
}
`;
}

/**
 * Writes the app. `nodeModules` is linked into it so that bare imports
 * (react, react-dom) resolve from the repository's dependencies.
 * @param {string} dir an empty directory
 * @param {string} nodeModules the repository's node_modules
 * @returns {{ modules: number, hmr: { file: string, selector: string, text: (version: number) => string, source: (version: number) => string } }}
 */
export function writeViteApp(dir, nodeModules) {
  for (const sub of ['src/s', 'src/c', 'src/util', 'public']) mkdirSync(join(dir, sub), { recursive: true });
  // Served as is (Vite's public directory): the workers of the lab's Service Worker floors (floor-sw.mjs).
  for (const [path, source] of FLOOR_WORKERS) writeFileSync(join(dir, 'public', path.slice(1)), source);
  symlinkSync(nodeModules, join(dir, 'node_modules'), 'dir');
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html>
<html><head><meta charset="utf-8"><title>lab Vite app</title></head>
<body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>
`,
  );
  writeFileSync(
    join(dir, 'src/main.jsx'),
    `import { createRoot } from 'react-dom/client';
import App from './App.jsx';

createRoot(document.getElementById('root')).render(<App />);
`,
  );
  const sections = Array.from({ length: SECTIONS }, (_, s) => sectionName(s));
  writeFileSync(
    join(dir, 'src/App.jsx'),
    `import { useEffect } from 'react';
${sections.map((s) => `import ${s} from './s/${s}.jsx';`).join('\n')}

export default function App() {
  // The ready marker: every module loaded and the tree committed.
  useEffect(() => {
    window.pageName = 'home';
    window.appReadyAt = performance.timeOrigin + performance.now();
  }, []);
  return (
    <main>
      <h1 id="name">home</h1>
${sections.map((s) => `      <${s} />`).join('\n')}
    </main>
  );
}
`,
  );
  // eslint-disable-next-line no-template-curly-in-string -- the generated module's own template literal
  writeFileSync(join(dir, 'src/util/label.js'), 'export const label = (i) => `component ${i}`;\n');
  let modules = 4;
  for (let s = 0; s < SECTIONS; s++) {
    const ids = Array.from({ length: COMPONENTS_PER_SECTION }, (_, k) => s * COMPONENTS_PER_SECTION + k);
    writeFileSync(
      join(dir, `src/s/${sectionName(s)}.jsx`),
      `${ids.map((i) => `import ${componentName(i)} from '../c/${componentName(i)}.jsx';`).join('\n')}

export default function ${sectionName(s)}() {
  return (
    <ul id="s${s}">
${ids.map((i) => `      <${componentName(i)} />`).join('\n')}
    </ul>
  );
}
`,
    );
    modules++;
    for (const i of ids) {
      writeFileSync(join(dir, `src/c/${componentName(i)}.jsx`), componentSource(i, 0));
      modules++;
    }
  }
  return {
    modules,
    hmr: {
      file: join(dir, `src/c/${componentName(HMR_INDEX)}.jsx`),
      selector: `#c${HMR_INDEX}`,
      text: (v) => componentText(HMR_INDEX, v),
      source: (v) => componentSource(HMR_INDEX, v),
    },
  };
}
