/**
 * Bulk throughput: a GET whose body is streamed and discarded, and a POST whose
 * body is written with backpressure. The caller repeats them and takes the
 * median (one transfer is easily disturbed by GC or a neighbour on a 2-core box).
 */
import http from 'node:http';
import { TRANSFER_TIMEOUT_MS } from '../lib/config.mjs';

const WRITE_BLOCK = Buffer.alloc(64 * 1024, 0x42);
const MB = 1e6;

/**
 * One download of `bytes` from /bytes, body discarded.
 * @param {{ port: number, host: string, bytes: number }} o
 * @returns {Promise<number>} MB/s (10^6 bytes per second)
 */
export function measureDownload({ port, host, bytes }) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.get({ host: '127.0.0.1', port, path: `/bytes?n=${bytes}`, headers: { host }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return fail(new Error(`GET /bytes answered HTTP ${res.statusCode}`));
      }
      let got = 0;
      res.on('data', (c) => (got += c.length));
      res.on('end', () => {
        if (got !== bytes) return fail(new Error(`GET /bytes delivered ${got} of ${bytes} bytes`));
        done(elapsedRate(started, bytes));
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new Error(`GET /bytes aborted after ${got} bytes`)));
    });
    const timer = setTimeout(() => fail(new Error(`GET /bytes not done within ${TRANSFER_TIMEOUT_MS} ms`)), TRANSFER_TIMEOUT_MS);
    req.on('error', fail);
    function done(v) {
      clearTimeout(timer);
      resolve(v);
    }
    function fail(err) {
      clearTimeout(timer);
      req.destroy();
      reject(err);
    }
  });
}

/**
 * One upload of `bytes` to /upload, timed from the first byte sent to the app's answer.
 * @param {{ port: number, host: string, bytes: number }} o
 * @returns {Promise<number>} MB/s
 */
export function measureUpload({ port, host, bytes }) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/upload',
        method: 'POST',
        headers: { host, 'content-type': 'application/octet-stream', 'content-length': String(bytes) },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body = (body + c).slice(0, 1000)));
        res.on('end', () => {
          let length = -1;
          try {
            length = JSON.parse(body).length;
          } catch {
            /* reported below */
          }
          if (res.statusCode !== 200 || length !== bytes) {
            return fail(new Error(`POST /upload answered HTTP ${res.statusCode} ${body.slice(0, 200)} (expected length ${bytes})`));
          }
          clearTimeout(timer);
          resolve(elapsedRate(started, bytes));
        });
        res.on('error', fail);
      },
    );
    const timer = setTimeout(() => fail(new Error(`POST /upload not done within ${TRANSFER_TIMEOUT_MS} ms`)), TRANSFER_TIMEOUT_MS);
    req.on('error', fail);
    let left = bytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, WRITE_BLOCK.length);
        left -= n;
        if (!req.write(n === WRITE_BLOCK.length ? WRITE_BLOCK : WRITE_BLOCK.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
    function fail(err) {
      clearTimeout(timer);
      left = 0;
      req.destroy();
      reject(err);
    }
  });
}

function elapsedRate(started, bytes) {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return bytes / MB / seconds;
}
