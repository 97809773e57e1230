/**
 * The baseline for the browser rows: a raw data channel between Chromium and
 * the agent's wrtc (the agent answers a channel labelled `wingman-raw-bench`
 * when started with WINGMAN_BENCH_RAW=1; packages/relay-server/src/p2p/raw-bench.ts).
 * Runs entirely inside the page: its own signaling socket and peer
 * connection, next to (not instead of) the shell's.
 */
import type { Page } from 'playwright-core';

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

/** Measures the raw channel in `page` (which must be on the session origin). */
export function measureRawChannel(page: Page, bulkBytes: number, pings: number, upload?: RawUpload): Promise<RawChannelFigures> {
  return page.evaluate(
    async ({ bulkBytes, pings, upload }) => {
      const TIMEOUT_MS = 60_000;
      const t0 = performance.now();
      const ws = new WebSocket(`ws://${location.host}/__wingman/signal`);
      const pc = new RTCPeerConnection();
      try {
        // The agent only serves the raw channel on a peer that also has the protocol channel.
        pc.createDataChannel('wingman', { ordered: true });
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
          await bounded(new Promise<void>((r) => { onMsg = (d) => d === `ping:${i}` && r(); raw.send(`ping:${i}`); }), 'ping');
          rtts.push(performance.now() - s);
        }
        rtts.sort((a, b) => a - b);
        // 1 MiB pieces: the agent's wrtc never fires bufferedamountlow (see scripts/bench/measure/raw-channel.mjs).
        const start = performance.now();
        for (let left = bulkBytes; left > 0; left -= 1048576) {
          const piece = Math.min(left, 1048576);
          await bounded(new Promise<void>((r) => { onMsg = (d) => d === 'done' && r(); raw.send(`bulk:${piece}`); }), 'bulk');
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
          await bounded(new Promise<void>((r) => { onMsg = (d) => d === 'ping:up' && r(); raw.send('ping:up'); }), 'upload');
          uploadMiBps = upload.bytes / 1048576 / ((performance.now() - up) / 1000);
        }
        return { bulkMiBps: bulkBytes / 1048576 / secs, pingP50Ms: rtts[Math.floor(rtts.length / 2)]!, connectMs, uploadMiBps };
      } finally {
        pc.close();
        ws.close();
      }
    },
    { bulkBytes, pings, upload },
  );
}
