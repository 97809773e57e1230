/**
 * The baseline for the browser rows: a raw data channel between Chromium and
 * wrtc in a Node process: the bench's raw host (scripts/bench/lib/raw-host.mjs,
 * never part of the agent). Runs entirely inside the page: its own signaling
 * socket (to the raw host on 127.0.0.1) and peer connection, next to (not
 * instead of) the shell's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Page } from 'playwright-core';

const RAW_HOST_SCRIPT = resolve(__dirname, '../../../scripts/bench/lib/raw-host.mjs');
/** The raw host prints its port within milliseconds; a bound in case it cannot start. */
const RAW_HOST_START_TIMEOUT_MS = 10_000;

export interface RawHost {
  port: number;
  close(): void;
}

/** Starts the raw host process; resolves once it listens. */
export function startRawHost(): Promise<RawHost> {
  const child: ChildProcess = spawn(process.execPath, [RAW_HOST_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const close = () => void child.kill('SIGTERM');
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => {
      close();
      reject(new Error(`raw host: no ready line within ${RAW_HOST_START_TIMEOUT_MS} ms`));
    }, RAW_HOST_START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`raw host exited (code ${code}) before it was ready`));
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolvePort({ port: (JSON.parse(line) as { port: number }).port, close });
      } catch (err) {
        close();
        reject(err);
      }
    });
  });
}

export interface RawChannelFigures {
  /** Bulk rate agent → Chromium, MiB/s (2^20 bytes). */
  bulkMiBps: number;
  /** Round trip of a tiny text message, ms, p50 over `pings` sequential pings. */
  pingP50Ms: number;
  connectMs: number;
  /** Bulk rate Chromium → agent in messages of `upload.messageBytes`, MiB/s (NaN when not asked). */
  uploadMiBps: number;
}

/** A raw upload: `bytes` in binary messages of `messageBytes` (the agent drops them; a ping after them marks their arrival: the channel is ordered). */
export interface RawUpload {
  bytes: number;
  messageBytes: number;
}

/** Measures the raw channel from `page` to the raw host listening on `port`. */
export function measureRawChannel(page: Page, port: number, bulkBytes: number, pings: number, upload?: RawUpload): Promise<RawChannelFigures> {
  return page.evaluate(
    async ({ port, bulkBytes, pings, upload }) => {
      const TIMEOUT_MS = 60_000;
      const t0 = performance.now();
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      const pc = new RTCPeerConnection();
      try {
        const raw = pc.createDataChannel('wingman-raw-bench', { ordered: true });
        raw.binaryType = 'arraybuffer';
        const send = (m: unknown) => ws.readyState === 1 && ws.send(JSON.stringify(m));
        pc.onicecandidate = (e) => send(e.candidate ? { type: 'ice-candidate', candidate: e.candidate.toJSON() } : { type: 'end-of-candidates' });
        let remoteSet = false;
        const pending: RTCIceCandidateInit[] = [];
        ws.onmessage = async (ev) => {
          const m = JSON.parse(String(ev.data));
          if (m.type === 'hello') {
            await pc.setLocalDescription(await pc.createOffer());
            send({ type: 'offer', sdp: pc.localDescription!.sdp });
          } else if (m.type === 'answer') {
            await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
            remoteSet = true;
            for (const c of pending.splice(0)) await pc.addIceCandidate(c);
          } else if (m.type === 'ice-candidate') {
            if (remoteSet) await pc.addIceCandidate(m.candidate);
            else pending.push(m.candidate);
          }
        };
        const bounded = <T>(p: Promise<T>, what: string) =>
          Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`raw channel: ${what} timed out`)), TIMEOUT_MS))]);
        await bounded(new Promise((r) => (raw.onopen = r)), 'open');
        const connectMs = performance.now() - t0;
        let onMsg: ((d: unknown) => void) | undefined;
        raw.onmessage = (e) => onMsg?.(e.data);
        const rtts: number[] = [];
        for (let i = 0; i < pings; i++) {
          const s = performance.now();
          await bounded(
            new Promise<void>((r) => {
              onMsg = (d) => d === `ping:${i}` && r();
              raw.send(`ping:${i}`);
            }),
            'ping',
          );
          rtts.push(performance.now() - s);
        }
        rtts.sort((a, b) => a - b);
        // 1 MiB pieces: the raw host's wrtc never fires bufferedamountlow (see scripts/bench/measure/raw-channel.mjs).
        const start = performance.now();
        for (let left = bulkBytes; left > 0; left -= 1048576) {
          const piece = Math.min(left, 1048576);
          await bounded(
            new Promise<void>((r) => {
              onMsg = (d) => d === 'done' && r();
              raw.send(`bulk:${piece}`);
            }),
            'bulk',
          );
        }
        const secs = (performance.now() - start) / 1000;
        let uploadMiBps = NaN;
        if (upload) {
          // Chromium fires bufferedamountlow: the same 1 MiB high-water mark as the protocol's transport.
          raw.bufferedAmountLowThreshold = 256 * 1024;
          const block = new Uint8Array(upload.messageBytes).buffer;
          const up = performance.now();
          for (let left = upload.bytes; left > 0; left -= upload.messageBytes) {
            if (raw.bufferedAmount >= 1048576) await bounded(new Promise((r) => (raw.onbufferedamountlow = r)), 'upload drain');
            raw.send(left >= upload.messageBytes ? block : block.slice(0, left));
          }
          await bounded(
            new Promise<void>((r) => {
              onMsg = (d) => d === 'ping:up' && r();
              raw.send('ping:up');
            }),
            'upload',
          );
          uploadMiBps = upload.bytes / 1048576 / ((performance.now() - up) / 1000);
        }
        return { bulkMiBps: bulkBytes / 1048576 / secs, pingP50Ms: rtts[Math.floor(rtts.length / 2)]!, connectMs, uploadMiBps };
      } finally {
        pc.close();
        ws.close();
      }
    },
    { port, bulkBytes, pings, upload },
  );
}
