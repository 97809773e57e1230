/**
 * Measurements that run inside Chromium: sequential small requests, bulk
 * transfers through the Service Worker, the same over the shell's protocol
 * connection without the SW hop, and the shell's start-up timeline.
 */
import type { Frame, Page } from 'playwright-core';

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  count: number;
}

/** `count` sequential fetch(path) from the app frame (each body read), after `warmup` unmeasured ones. */
export function smallRequests(frame: Frame, path: string, count: number, warmup = 20): Promise<Latency & { transports: string[] }> {
  return frame.evaluate(
    async ({ path, count, warmup }) => {
      const times: number[] = [];
      const transports = new Set<string>();
      for (let i = 0; i < warmup + count; i++) {
        const t = performance.now();
        const r = await fetch(path, { cache: 'no-store' });
        await r.arrayBuffer();
        if (i >= warmup) {
          times.push(performance.now() - t);
          transports.add(r.headers.get('x-wingman-transport') ?? 'none');
        }
      }
      times.sort((a, b) => a - b);
      return { p50Ms: times[Math.floor(times.length / 2)]!, p99Ms: times[Math.floor(times.length * 0.99)]!, count, transports: [...transports] };
    },
    { path, count, warmup },
  );
}

/**
 * GET /bytes?n=… through the SW from the app frame; MiB/s (2^20). `tag` makes
 * the URL one the SW has not seen: a URL that answered large before is bulk,
 * and bulk takes the path the session measured faster (on loopback often the relay).
 */
export function downloadRate(frame: Frame, bytes: number, tag = ''): Promise<{ mibps: number; transport: string | null }> {
  return frame.evaluate(
    async ({ bytes, tag }) => {
      const t = performance.now();
      const r = await fetch(`/bytes?n=${bytes}${tag ? `&tag=${tag}` : ''}`, { cache: 'no-store' });
      const reader = r.body!.getReader();
      let n = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        n += value.length;
      }
      if (n !== bytes) throw new Error(`got ${n} of ${bytes} bytes`);
      return { mibps: bytes / 1048576 / ((performance.now() - t) / 1000), transport: r.headers.get('x-wingman-transport') };
    },
    { bytes, tag },
  );
}

/** POST of `bytes` to /sha through the SW from the app frame; MiB/s. */
export function uploadRate(frame: Frame, bytes: number): Promise<{ mibps: number; transport: string | null }> {
  return frame.evaluate(async (bytes) => {
    const body = new Uint8Array(bytes);
    const t = performance.now();
    const r = await fetch('/sha', { method: 'POST', body });
    const got = (await r.json()) as { length: number };
    if (got.length !== bytes) throw new Error(`app received ${got.length} of ${bytes} bytes`);
    return { mibps: bytes / 1048576 / ((performance.now() - t) / 1000), transport: r.headers.get('x-wingman-transport') };
  }, bytes);
}

/** The same two measurements over the shell's protocol connection directly (no Service Worker hop). */
export function protocolOnly(page: Page, bytes: number, count: number): Promise<{ small: Latency; mibps: number }> {
  return page.evaluate(
    async ({ bytes, count }) => {
      type S = { on(e: string, f: (...a: unknown[]) => void): void };
      const conn = (window as unknown as { __wingman: { connection(): { open(k: string, h: unknown, o: unknown): S } | undefined } }).__wingman.connection();
      if (!conn) throw new Error('no P2P connection');
      const get = (target: string) =>
        new Promise<number>((resolve, reject) => {
          const s = conn.open('http', { method: 'GET', target, headers: [['host', location.host]] }, { end: true });
          let n = 0;
          s.on('data', (c) => (n += (c as Uint8Array).length));
          s.on('end', () => resolve(n));
          s.on('reset', (e) => reject(e));
        });
      const times: number[] = [];
      for (let i = 0; i < count + 20; i++) {
        const t = performance.now();
        await get('/api/hello');
        if (i >= 20) times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const t = performance.now();
      const n = await get(`/bytes?n=${bytes}`);
      if (n !== bytes) throw new Error(`got ${n} of ${bytes}`);
      return {
        small: { p50Ms: times[Math.floor(times.length / 2)]!, p99Ms: times[Math.floor(times.length * 0.99)]!, count },
        mibps: bytes / 1048576 / ((performance.now() - t) / 1000),
      };
    },
    { bytes, count },
  );
}

/** p50 of `count` protocol PINGs over the shell's connection (the agent's protocol layer answers them: no HTTP). */
export function protocolPing(page: Page, count: number): Promise<number> {
  return page.evaluate(async (count) => {
    const conn = (window as unknown as { __wingman: { connection(): { ping(): Promise<number> } | undefined } }).__wingman.connection();
    if (!conn) throw new Error('no P2P connection');
    const times: number[] = [];
    for (let i = 0; i < count; i++) times.push(await conn.ping());
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  }, count);
}

export interface Readiness {
  /** Navigation start → channel usable (protocol HELLO received), ms. */
  readyMs: number;
  /** Channel usable − the shell document's load event end (negative: before load), ms. */
  afterLoadMs: number;
  timeline: Record<string, number>;
}

/** Reads the shell's readiness once its channel is up. */
export async function readiness(page: Page): Promise<Readiness> {
  await page.waitForFunction(
    () => (window as unknown as { __wingman?: { status(): { transport: string } } }).__wingman?.status().transport === 'p2p',
    undefined,
    { timeout: 30_000 },
  );
  await page.waitForFunction(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)?.loadEventEnd, undefined, {
    timeout: 30_000,
  });
  return page.evaluate(() => {
    const w = (window as unknown as { __wingman: { status(): { p2pReadyMs: number }; timeline(): Record<string, number> } }).__wingman;
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const readyMs = w.status().p2pReadyMs;
    return { readyMs, afterLoadMs: readyMs - nav.loadEventEnd, timeline: w.timeline() };
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
