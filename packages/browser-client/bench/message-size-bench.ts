/**
 * P2P data-channel message size: the same browser P2P rows with the agent
 * capping the message size (WINGMAN_P2P_MAX_MESSAGE_BYTES, announced to the
 * browser in the answer's a=max-message-size) at each size in
 * BENCH_MESSAGE_SIZES, one stack per size, interleaved rounds in one run:
 * raw channel upload at that size, SW upload and download, and the latency of
 * small GETs while a bulk download runs (head-of-line blocking behind larger
 * messages). Prints medians per size.
 * Run: node packages/browser-client/bench/run.mjs --bench message-size
 */
import type { Frame } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../test/e2e/helpers/browser';
import { openShell, waitForTransport } from '../test/e2e/support/shell';
import { startStack, type Stack } from '../test/e2e/support/stack';
import { RACE_MIN_BYTES } from '../src/sw/bulk-race';
import { downloadRate, median, uploadRate } from './measure-page';
import { measureRawChannel, startRawHost, type RawHost } from './raw-channel';

const MiB = 1024 * 1024;
const SIZES = (process.env.BENCH_MESSAGE_SIZES ?? '16384,65536,262144').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_BROWSER_RUNS ?? 3);
const BULK_BYTES = 50 * MiB;
/** 16 MiB, as in the figures of docs/benchmarks.md. A sample the SW sent over the relay is not a P2P figure: it is dropped (below). */
const UPLOAD_BYTES = 16 * MiB;
const SMALL_UNDER_BULK = 50;

const log = (m: string) => console.error(`[bench:message-size] ${m}`);

/** p50 of `count` sequential small GETs issued while one `bulkBytes` download runs in the same frame. */
function smallUnderBulk(frame: Frame, bulkBytes: number, count: number): Promise<{ p50Ms: number; p90Ms: number; transports: string[] }> {
  return frame.evaluate(
    async ({ bulkBytes, count }) => {
      const bulk = fetch(`/bytes?n=${bulkBytes}`, { cache: 'no-store' }).then((r) => r.arrayBuffer());
      // Let the bulk response start flowing first.
      await new Promise((r) => setTimeout(r, 100));
      const times: number[] = [];
      const transports = new Set<string>();
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        const r = await fetch('/api/hello', { cache: 'no-store' });
        await r.arrayBuffer();
        times.push(performance.now() - t);
        transports.add(r.headers.get('x-wingman-transport') ?? 'none');
      }
      const got = (await bulk).byteLength;
      if (got !== bulkBytes) throw new Error(`bulk got ${got} of ${bulkBytes}`);
      times.sort((a, b) => a - b);
      return { p50Ms: times[Math.floor(times.length / 2)]!, p90Ms: times[Math.floor(times.length * 0.9)]!, transports: [...transports] };
    },
    { bulkBytes, count },
  );
}

interface Figures {
  rawUp: number[];
  rawDown: number[];
  up: number[];
  down: number[];
  smallP50: number[];
  smallP90: number[];
}

async function main(): Promise<number> {
  const stacks: Stack[] = [];
  let browser: LaunchedChromium | undefined;
  let rawHost: RawHost | undefined;
  try {
    rawHost = await startRawHost();
    browser = await launchChromium();
    const lanes: Array<{ size: number; frame: Frame; page: import('playwright-core').Page; f: Figures }> = [];
    for (const size of SIZES) {
      const stack = await startStack({ agentEnv: { WINGMAN_P2P_MAX_MESSAGE_BYTES: String(size) } });
      stacks.push(stack);
      const page = lanes.length === 0 ? browser.page : await browser.context.newPage();
      const frame = await openShell(page, `${stack.origin}/one`, 'one');
      await waitForTransport(page, 'p2p');
      lanes.push({ size, frame, page, f: { rawUp: [], rawDown: [], up: [], down: [], smallP50: [], smallP90: [] } });
    }
    const interleaved = (round: number) => (round % 2 ? [...lanes].reverse() : lanes);
    // Uploads first: an upload takes the path bulk downloads take (sw/path-choice.ts), and on
    // loopback the race below may find the relay faster for bulk.
    for (let round = 0; round < ROUNDS; round++) {
      for (const lane of interleaved(round)) {
        log(`upload round ${round + 1}/${ROUNDS}, ${lane.size} B messages`);
        const raw = await measureRawChannel(lane.page, rawHost.port, BULK_BYTES, 5, { bytes: UPLOAD_BYTES, messageBytes: lane.size });
        lane.f.rawUp.push(raw.uploadMiBps);
        lane.f.rawDown.push(raw.bulkMiBps);
        const up = await uploadRate(lane.frame, UPLOAD_BYTES);
        // A sample carried by the relay is not a P2P figure: left out, and said.
        if (up.transport === 'p2p') lane.f.up.push(up.mibps);
        else log(`upload went over ${up.transport}: sample dropped`);
      }
    }
    // The SW races its first large download over both paths (sw/bulk-race.ts); after that a new large URL goes over P2P.
    for (const lane of lanes) await downloadRate(lane.frame, RACE_MIN_BYTES);
    for (let round = 0; round < ROUNDS; round++) {
      for (const lane of interleaved(round)) {
        log(`download round ${round + 1}/${ROUNDS}, ${lane.size} B messages`);
        const down = await downloadRate(lane.frame, BULK_BYTES, `round-${round}`);
        if (down.transport === 'p2p') lane.f.down.push(down.mibps);
        else log(`download went over ${down.transport}: sample dropped`);
        const s = await smallUnderBulk(lane.frame, BULK_BYTES, SMALL_UNDER_BULK);
        lane.f.smallP50.push(s.p50Ms);
        lane.f.smallP90.push(s.p90Ms);
      }
    }
    const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
    const lines = [
      `P2P message size — ${new Date().toISOString()}, ${ROUNDS} interleaved rounds, medians (MiB/s; ms)`,
      '',
      '| message size | raw upload at that size | SW upload 16 MiB (× raw) | raw download (16 KiB messages) | SW download 50 MiB | small GET during bulk: p50 / p90 |',
      '|---|---|---|---|---|---|',
      ...lanes.map(({ size, f }) => {
        const ru = median(f.rawUp);
        const u = median(f.up);
        return `| ${size / 1024} KiB | ${fmt(ru)} | ${fmt(u)} (×${fmt(u / ru, 2)}) | ${fmt(median(f.rawDown))} | ${fmt(median(f.down))} | ${fmt(median(f.smallP50), 1)} / ${fmt(median(f.smallP90), 1)} |`;
      }),
    ];
    console.log(lines.join('\n'));
    console.log(JSON.stringify(lanes.map(({ size, f }) => ({ size, ...f }))));
    return 0;
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? err}`);
    return 1;
  } finally {
    await browser?.close().catch(() => undefined);
    for (const s of stacks) await s.close().catch(() => undefined);
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
