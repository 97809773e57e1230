/**
 * Where a browser P2P upload's time goes, hop by hop, at the default
 * message size (interleaved rounds, medians, MiB/s):
 *   raw       Chromium → wrtc data channel, 64 KiB messages, nothing behind it;
 *   protocol  the shell page writes the body into an 'http' stream on its own
 *             Connection (data channel → agent → app), no Service Worker;
 *   sw        fetch() POST from the app frame → SW → MessagePort → shell →
 *             the same stream (the real path).
 * Run: node packages/browser-client/bench/run.mjs --bench upload-path
 */
import { loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../test/e2e/helpers/browser';
import { openShell, waitForTransport } from '../test/e2e/support/shell';
import { startStack, type Stack } from '../test/e2e/support/stack';
import { median, uploadRate } from './measure-page';
import { measureRawChannel, startRawHost, type RawHost } from './raw-channel';

const MiB = 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_BROWSER_RUNS ?? 3);
const UPLOAD_BYTES = 16 * MiB;
const MESSAGE_BYTES = 64 * 1024;

const log = (m: string) => console.error(`[bench:upload-path] ${m}`);

/** POST /sha written straight into a stream of the shell's Connection, 64 KiB writes with backpressure; MiB/s to the app's answer. */
function protocolUpload(page: Page, bytes: number): Promise<number> {
  return page.evaluate(async (bytes) => {
    type S = { on(e: string, f: (...a: unknown[]) => void): void; write(c: Uint8Array): boolean; end(): void };
    const conn = (window as unknown as { __wingman: { connection(): { open(k: string, h: unknown, o: unknown): S } | undefined } }).__wingman.connection();
    if (!conn) throw new Error('no P2P connection');
    const t = performance.now();
    const s = conn.open(
      'http',
      {
        method: 'POST',
        target: '/sha',
        headers: [
          ['host', location.host],
          ['content-length', String(bytes)],
        ],
      },
      { end: false },
    );
    const answer = new Promise<string>((resolve, reject) => {
      let text = '';
      s.on('data', (c) => (text += new TextDecoder().decode(c as Uint8Array)));
      s.on('end', () => resolve(text));
      s.on('reset', (e) => reject(e));
      setTimeout(() => reject(new Error('protocol upload timed out')), 60_000);
    });
    let drained: (() => void) | undefined;
    s.on('drain', () => drained?.());
    for (let o = 0; o < bytes; o += 65536) {
      if (!s.write(new Uint8Array(Math.min(65536, bytes - o)))) await new Promise<void>((r) => (drained = r));
    }
    s.end();
    const got = JSON.parse(await answer) as { length: number };
    if (got.length !== bytes) throw new Error(`app received ${got.length} of ${bytes}`);
    return bytes / 1048576 / ((performance.now() - t) / 1000);
  }, bytes);
}

async function main(): Promise<number> {
  let stack: Stack | undefined;
  let browser: LaunchedChromium | undefined;
  let rawHost: RawHost | undefined;
  try {
    const loadBefore = loadavg()[0]!;
    rawHost = await startRawHost();
    browser = await launchChromium();
    stack = await startStack();
    const { page } = browser;
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    const f = { raw: [] as number[], protocol: [] as number[], sw: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      log(`round ${round + 1}/${ROUNDS}`);
      f.raw.push((await measureRawChannel(page, rawHost.port, MiB, 3, { bytes: UPLOAD_BYTES, messageBytes: MESSAGE_BYTES })).uploadMiBps);
      f.protocol.push(await protocolUpload(page, UPLOAD_BYTES));
      const up = await uploadRate(frame, UPLOAD_BYTES);
      if (up.transport === 'p2p') f.sw.push(up.mibps);
      else log(`SW upload went over ${up.transport}: sample dropped`);
    }
    const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
    const raw = median(f.raw);
    console.log(
      [
        `upload path — ${new Date().toISOString()}, ${ROUNDS} rounds, 16 MiB, medians MiB/s (× raw); load average ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
        '',
        '| raw channel (64 KiB messages) | protocol stream from the shell | SW upload (real path) |',
        '|---|---|---|',
        `| ${fmt(raw)} | ${fmt(median(f.protocol))} (×${(median(f.protocol) / raw).toFixed(2)}) | ${fmt(median(f.sw))} (×${(median(f.sw) / raw).toFixed(2)}) |`,
      ].join('\n'),
    );
    console.log(JSON.stringify(f));
    return 0;
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? err}`);
    return 1;
  } finally {
    await browser?.close().catch(() => undefined);
    await stack?.close().catch(() => undefined);
    rawHost?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
