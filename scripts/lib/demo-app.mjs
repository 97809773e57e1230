/**
 * The quick start's demo app (`npm start` with no port): one page that shows,
 * live, what Wingman carries — the X-Wingman-Transport header of a fetch, a
 * counter streamed over Server-Sent Events, and a WebSocket echo. Plain
 * node:http + ws, on 127.0.0.1 only.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

/** One SSE tick per second: visible to a person, negligible load. */
const SSE_INTERVAL_MS = 1_000;
/** An echo app has no business with big messages; 1 MiB bounds memory per socket. */
const WS_MAX_PAYLOAD_BYTES = 1024 * 1024;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wingman demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
  code, output { font-family: ui-monospace, monospace; background: #f3f3f3; padding: 0 .3em; border-radius: 3px; }
  section { border: 1px solid #ddd; border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; }
  h2 { font-size: 1rem; margin: .3rem 0; }
</style>
</head>
<body>
<h1>Wingman demo app</h1>
<p>This page is served by a small app on the developer's machine and reached through Wingman.</p>
<section>
  <h2>Transport</h2>
  <p>Last <code>fetch('/api/hello')</code> came over: <output id="transport">…</output>
  <button id="again">fetch again</button></p>
</section>
<section>
  <h2>Server-Sent Events</h2>
  <p>Counter: <output id="counter">…</output></p>
</section>
<section>
  <h2>WebSocket echo</h2>
  <form id="ws-form"><input id="ws-input" value="hello" autocomplete="off"> <button>send</button></form>
  <p>Echo: <output id="echo">…</output></p>
</section>
<script>
  const $ = (id) => document.getElementById(id);
  async function probe() {
    try {
      const res = await fetch('/api/hello', { cache: 'no-store' });
      $('transport').textContent = (res.headers.get('x-wingman-transport') || 'direct (no Wingman header)') + ' — ' + (await res.json()).message;
    } catch (err) { $('transport').textContent = 'error: ' + err.message; }
  }
  $('again').onclick = probe;
  probe();
  const events = new EventSource('/api/events');
  events.onmessage = (e) => { $('counter').textContent = e.data; };
  events.onerror = () => { $('counter').textContent = 'reconnecting…'; };
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws');
  ws.onmessage = (e) => { $('echo').textContent = e.data; };
  ws.onclose = () => { $('echo').textContent = 'socket closed'; };
  $('ws-form').onsubmit = (e) => { e.preventDefault(); if (ws.readyState === 1) ws.send($('ws-input').value); };
</script>
</body>
</html>
`;

/**
 * @typedef {object} DemoApp
 * @property {number} port the port it listens on (127.0.0.1)
 * @property {() => Promise<void>} close stops timers, sockets and the server
 */

/**
 * Starts the demo app.
 * @param {{ port?: number }} [options] port: 0 (default) picks a free one
 * @returns {Promise<DemoApp>}
 */
export async function createDemoApp({ port = 0 } = {}) {
  const timers = new Set();
  const sockets = new Set();

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
    } else if (path === '/api/hello') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ message: 'hello from the demo app', time: new Date().toISOString() }));
    } else if (path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      let count = 0;
      const tick = () => res.write(`data: ${count++}\n\n`);
      tick();
      const timer = setInterval(tick, SSE_INTERVAL_MS);
      timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end(); // browsers ask for it on every load; answer without noise
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });

  const wss = new WebSocketServer({ server, path: '/ws', maxPayload: WS_MAX_PAYLOAD_BYTES });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => ws.terminate()); // one bad client never takes the app down
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearInterval(timer);
        for (const client of wss.clients) client.terminate();
        wss.close();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve(undefined));
      }),
  };
}
