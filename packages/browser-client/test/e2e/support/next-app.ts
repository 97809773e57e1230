/**
 * A real Next.js app (App Router, from npm) as the developer's app, on
 * `next dev`: a home page with a client-side `<Link>` to /about, and an API
 * route. The project lives in a temporary directory whose `node_modules` is
 * a link to the repository's; Turbopack refuses a `node_modules` outside the
 * project's root, so it runs with `--webpack`.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startProcess, type Proc } from '../../../../../test/helpers/processes';
import { freePort } from '../../../../../test/helpers/redis';
import { startInTempDir } from './temp-dir-app';

const NEXT_BIN = join(ROOT, 'node_modules/next/dist/bin/next');

/** `next dev` is ready in ~1 s; its first page compiles on the first request (10–15 s on a loaded 2-core machine). */
const NEXT_START_TIMEOUT_MS = 60_000;

const FILES: Record<string, string> = {
  'package.json': '{ "name": "wingman-next-fixture", "private": true }\n',
  'app/layout.js': `import Hydrated from './hydrated';
export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        <script dangerouslySetInnerHTML={{ __html: 'window.pageName = "next";' }} />
        <Hydrated />
        {children}
      </body>
    </html>
  );
}
`,
  // Says when React has hydrated the page (from then on a <Link> click is a client-side navigation).
  'app/hydrated.js': `'use client';
import { useEffect } from 'react';
export default function Hydrated() {
  useEffect(() => {
    window.hydrated = true;
  }, []);
  return null;
}
`,
  'app/page.js': `import Link from 'next/link';
export default function Home() {
  return (
    <main>
      <h1 id="title">home</h1>
      <Link id="to-about" href="/about">about</Link>
    </main>
  );
}
`,
  'app/about/page.js': `export default function About() {
  return <h1 id="title">about</h1>;
}
`,
  'app/api/hello/route.js': `export function GET(request) {
  return Response.json({ hello: 'world', cookie: request.headers.get('cookie') });
}
`,
};

export interface NextApp {
  port: number;
  proc: Proc;
  close(): Promise<void>;
}

export async function startNext(): Promise<NextApp> {
  const port = await freePort();
  const app = await startInTempDir(
    'wingman-next-',
    FILES,
    (dir) => {
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      return startProcess(NEXT_BIN, ['dev', '--webpack', '-H', '127.0.0.1', '-p', String(port), dir], { NEXT_TELEMETRY_DISABLED: '1' });
    },
    (proc) => proc.waitForLine(/Ready in/, { timeoutMs: NEXT_START_TIMEOUT_MS, stream: 'both' }),
    { what: 'Next.js', hint: 'install it with `npm ci` at the repository root' },
  );
  return { port, proc: app.proc, close: () => app.close() };
}

/**
 * Requests each of `paths` once from `next dev` and waits for its answers:
 * `next dev` compiles on demand, on a route's first request (here the first
 * request's compilation covers all of this app's routes), so a browser that
 * comes next finds them compiled. All at once: requests that arrive during a
 * compilation wait for that one.
 */
export async function compileRoutes(app: NextApp, paths: readonly string[]): Promise<void> {
  await Promise.all(
    paths.map(async (path) => {
      const r = await fetch(`http://127.0.0.1:${app.port}${path}`);
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`next dev answered ${path} with ${r.status}`);
    }),
  );
}
