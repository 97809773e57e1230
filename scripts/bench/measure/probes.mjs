/**
 * Yes/no probes: does a WebSocket echo work, and does an SSE event arrive
 * while its response is still open? Each returns { ok, detail } and never throws.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { PROBE_TIMEOUT_MS } from '../lib/config.mjs';

/**
 * Echo of one text and one 64 KiB binary message.
 * @param {{ port: number, host: string }} o
 * @returns {Promise<{ ok: boolean, detail: string }>}
 */
export function probeWebSocket({ port, host }) {
  return new Promise((resolve) => {
    const text = `hello ${randomBytes(4).toString('hex')}`;
    const binary = randomBytes(64 * 1024);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host }, handshakeTimeout: PROBE_TIMEOUT_MS });
    const started = Date.now();
    let step = 0;
    const finish = (ok, detail) => {
      clearTimeout(timer);
      ws.terminate();
      resolve({ ok, detail });
    };
    const timer = setTimeout(() => finish(false, `no echo within ${PROBE_TIMEOUT_MS} ms (step ${step})`), PROBE_TIMEOUT_MS);
    ws.on('open', () => ws.send(text));
    ws.on('message', (data, isBinary) => {
      if (step === 0) {
        if (isBinary || data.toString() !== text) return finish(false, 'text echo differs');
        step = 1;
        return ws.send(binary);
      }
      if (!isBinary || !Buffer.from(data).equals(binary)) return finish(false, 'binary echo differs');
      finish(true, `text + 64 KiB binary echoed in ${Date.now() - started} ms`);
    });
    ws.on('unexpected-response', (_req, res) => finish(false, `upgrade refused: HTTP ${res.statusCode}`));
    ws.on('error', (err) => finish(false, err.message));
  });
}

/**
 * Opens /sse, waits for the first event, then asks the app (through the same
 * tunnel) to send the second one and end. A tunnel that buffers responses never
 * delivers the first event while the stream is open, so it times out.
 * @param {{ port: number, host: string }} o
 * @returns {Promise<{ ok: boolean, detail: string }>}
 */
export function probeSse({ port, host }) {
  return new Promise((resolve) => {
    const id = randomBytes(8).toString('hex');
    const started = Date.now();
    let text = '';
    let released = false;
    let firstMs = -1;
    let settled = false;
    const finish = (ok, detail) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ok, detail });
    };
    const timer = setTimeout(() => finish(false, `${released ? 'second' : 'first'} event not received within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
    const req = http.get({ host: '127.0.0.1', port, path: `/sse?id=${id}`, headers: { host, accept: 'text/event-stream' }, agent: false }, (res) => {
      if (res.statusCode !== 200) return finish(false, `HTTP ${res.statusCode}`);
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text = (text + c).slice(0, 10_000);
        if (!released && text.includes('data: first\n\n')) {
          released = true;
          firstMs = Date.now() - started;
          release(port, host, id).catch((err) => finish(false, `release failed: ${err.message}`));
        }
      });
      res.on('end', () => {
        const ok = released && text.includes('data: second\n\n');
        finish(ok, ok ? `first event after ${firstMs} ms, while the response was open` : 'stream ended without both events');
      });
      res.on('error', (err) => finish(false, err.message));
    });
    req.on('error', (err) => finish(false, err.message));
  });
}

function release(port, host, id) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/sse-release?id=${id}`, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.setTimeout(PROBE_TIMEOUT_MS, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}
