/**
 * Things the tests make the app do, run inside the app's frame: bulk
 * download and upload with SHA-256, the first SSE event, a WebSocket echo,
 * an aborted request. Every in-page wait is bounded by WAIT_MS.
 */
import type { Frame } from 'playwright-core';
import { RACE_MIN_BYTES } from '../../../src/sw/bulk-race';
import { patternSha256 } from './app';
import { inPage, WAIT_MS, type AnyFrame } from './shell';

export interface DownloadResult {
  sha: string;
  bytes: number;
  transport: string | null;
}

/**
 * GET /bytes?n=… and hash it. With `dropAfterBytes`, the shell's data channel
 * is closed (as a network failure would) once that many bytes arrived.
 */
export function download(frame: AnyFrame, bytes: number, dropAfterBytes?: number): Promise<DownloadResult> {
  return inPage(
    frame,
    async ({ bytes, dropAfterBytes }) => {
      const r = await fetch(`/bytes?n=${bytes}`);
      const reader = r.body!.getReader();
      const out = new Uint8Array(bytes);
      let got = 0;
      let dropped = dropAfterBytes === undefined;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        out.set(value, got);
        got += value.length;
        if (!dropped && got >= dropAfterBytes!) {
          dropped = true;
          const shell = window.top as unknown as { __wingman: { dropChannel(): boolean } };
          if (!shell.__wingman.dropChannel()) throw new Error('no channel to drop');
        }
      }
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', out.subarray(0, got)));
      return { sha: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), bytes: got, transport: r.headers.get('x-wingman-transport') };
    },
    { bytes, dropAfterBytes },
  );
}

/**
 * Downloads of the settling body settleBulkFigures makes at most. The first
 * (its size not known yet: a small request, over P2P) is raced when P2P alone
 * is not fast enough. A race whose relay leg carried nothing (P2P, its head in
 * before the relay's request left, delivered the whole body first) leaves the
 * relay without a figure: the same URL, now known to be bulk, is then raced
 * once more and, the time after, sent over the relay to measure it
 * (sw/path-choice.ts PROBE_AFTER). Past that the relay has a bulk figure, or
 * P2P one of P2P_BULK_ENOUGH_BYTES_PER_S or more.
 */
const SETTLE_DOWNLOADS = 3;

/**
 * Large downloads of one URL (sw/bulk-race.ts: P2P alone first, raced over
 * both paths when P2P is not fast enough) until the Service Worker has a bulk
 * figure for the relay (one came over the relay: a race it won, or its probe)
 * or SETTLE_DOWNLOADS were made: a later large download of a new URL then
 * goes over P2P, as small requests do, without a race. Tests of what P2P
 * itself does with a large body call this first.
 */
export async function settleBulkFigures(frame: AnyFrame): Promise<void> {
  for (let n = 1; n <= SETTLE_DOWNLOADS; n++) {
    const r = await download(frame, RACE_MIN_BYTES);
    if (r.sha !== patternSha256(RACE_MIN_BYTES)) throw new Error(`the settling download arrived damaged (${r.bytes} bytes over ${r.transport})`);
    if (r.transport === 'relay') return;
  }
}

export interface UploadResult {
  localSha: string;
  remote: { sha: string; length: number };
  transport: string | null;
}

/**
 * POSTs `bytes` random bytes to /sha; the app answers with the SHA-256 it
 * received. `busyAfterFetchMs`: right after starting the request, block the
 * frame's main thread that long (as a heavy render would).
 */
export function upload(frame: AnyFrame, bytes: number, busyAfterFetchMs = 0): Promise<UploadResult> {
  return inPage(
    frame,
    async ({ bytes, busyAfterFetchMs }) => {
      const body = new Uint8Array(bytes);
      for (let o = 0; o < bytes; o += 65536) crypto.getRandomValues(body.subarray(o, Math.min(bytes, o + 65536)));
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
      const answer = fetch('/sha', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
      const busyUntil = performance.now() + busyAfterFetchMs;
      while (performance.now() < busyUntil) {
        /* nothing else runs on this thread meanwhile */
      }
      const r = await answer;
      return {
        localSha: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
        remote: await r.json(),
        transport: r.headers.get('x-wingman-transport'),
      };
    },
    { bytes, busyAfterFetchMs },
  );
}

/** Opens an EventSource on /sse and resolves with the first event (the app holds the response open). */
export function firstSseEvent(frame: Frame): Promise<string> {
  return frame.evaluate(
    (timeoutMs) =>
      new Promise<string>((resolve, reject) => {
        const es = new EventSource('/sse');
        const t = setTimeout(() => {
          es.close();
          reject(new Error('no SSE event'));
        }, timeoutMs);
        es.onmessage = (e) => {
          clearTimeout(t);
          es.close();
          resolve(String(e.data));
        };
      }),
    WAIT_MS,
  );
}

export interface EchoResult {
  hello: { protocol: string; cookie: string; forwardedFor: string | null };
  echo: string;
  binary: number[];
  closeCode: number;
}

/** Opens ws://<origin>/ws (protocol "chat"), echoes a text and a binary message, closes. */
export function websocketEcho(frame: AnyFrame): Promise<EchoResult> {
  return inPage(
    frame,
    (timeoutMs) =>
      new Promise<EchoResult>((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/ws`, ['chat']);
        ws.binaryType = 'arraybuffer';
        const got: unknown[] = [];
        const t = setTimeout(() => reject(new Error(`WebSocket timed out; got ${JSON.stringify(got)}`)), timeoutMs);
        ws.onopen = () => ws.send('ping');
        ws.onerror = () => reject(new Error('WebSocket error'));
        ws.onmessage = (e) => {
          got.push(e.data);
          if (got.length === 2) ws.send(new Uint8Array([1, 2, 3]));
          if (got.length === 3) ws.close(1000, 'done');
        };
        ws.onclose = (e) => {
          clearTimeout(t);
          if (got.length < 3) return reject(new Error(`closed early (${e.code}); got ${JSON.stringify(got)}`));
          resolve({ hello: JSON.parse(String(got[0])), echo: String(got[1]), binary: [...new Uint8Array(got[2] as ArrayBuffer)], closeCode: e.code });
        };
      }),
    WAIT_MS,
  );
}

/** Opens /ws, sends one binary message of `bytes` after the app's hello, resolves with how the socket closed. */
export function websocketSendAndClose(frame: AnyFrame, bytes: number): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return inPage(
    frame,
    ({ timeoutMs, bytes }) =>
      new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/ws`);
        const t = setTimeout(() => reject(new Error('WebSocket did not close in time')), timeoutMs);
        ws.onmessage = () => ws.send(new Uint8Array(bytes));
        ws.onclose = (e) => {
          clearTimeout(t);
          resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean });
        };
      }),
    { timeoutMs: WAIT_MS, bytes },
  );
}

/** Starts `fetch(path)`, aborts it after `afterMs`, resolves with the rejection's name. */
export function abortedFetch(frame: Frame, path: string, afterMs: number): Promise<string> {
  return frame.evaluate(
    async ({ path, afterMs }) => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), afterMs);
      try {
        const r = await fetch(path, { signal: ac.signal });
        await r.arrayBuffer();
        return 'completed';
      } catch (e) {
        return (e as Error).name;
      }
    },
    { path, afterMs },
  );
}
