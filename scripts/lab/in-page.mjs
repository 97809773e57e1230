/**
 * Code that runs inside Chromium (passed to page/frame.evaluate or
 * addInitScript by reviewer.mjs): no closures over module scope, every
 * wait bounded by the argument it is given.
 */

/**
 * Init script for every document: wraps RTCPeerConnection so the lab can
 * read the shell's peer connections (selected candidate pair, state
 * changes, gathered and received candidates) without the browser client
 * exposing them. Timestamps are performance.now() of the document, i.e.
 * ms since its navigation started.
 */
export function recordPeerConnections() {
  const Native = window.RTCPeerConnection;
  if (typeof Native !== 'function' || window.__labPeers) return;
  const peers = [];
  const records = new WeakMap();
  const now = () => Math.round(performance.now());
  class LabPeerConnection extends Native {
    constructor(...args) {
      super(...args);
      const rec = { pc: this, createdMs: now(), states: [], local: [], remote: [] };
      records.set(this, rec);
      peers.push(rec);
      this.addEventListener('connectionstatechange', () => rec.states.push([now(), 'connection', this.connectionState]));
      this.addEventListener('iceconnectionstatechange', () => rec.states.push([now(), 'ice', this.iceConnectionState]));
      this.addEventListener('icecandidate', (e) => {
        if (e.candidate && e.candidate.candidate) rec.local.push(e.candidate.candidate);
      });
    }
    addIceCandidate(candidate, ...rest) {
      const rec = records.get(this);
      if (rec && candidate && candidate.candidate) rec.remote.push(candidate.candidate);
      return super.addIceCandidate(candidate, ...rest);
    }
  }
  window.RTCPeerConnection = LabPeerConnection;
  window.__labPeers = peers;
}

/**
 * The shell's peer connections: states, candidates, and for a connected
 * one the selected candidate pair from getStats().
 */
export async function readPeers() {
  const peers = window.__labPeers || [];
  const out = [];
  for (const rec of peers) {
    const entry = {
      createdMs: rec.createdMs,
      states: rec.states,
      local: rec.local,
      remote: rec.remote,
      connectionState: rec.pc.connectionState,
      selected: null,
    };
    if (rec.pc.connectionState === 'connected') {
      const stats = await rec.pc.getStats();
      let pair;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
      });
      if (!pair)
        stats.forEach((s) => {
          if (!pair && s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
        });
      if (pair) {
        const pick = (c) =>
          c
            ? {
                type: c.candidateType,
                protocol: c.protocol,
                relayProtocol: c.relayProtocol ?? null,
                address: c.address ?? c.ip ?? null,
                port: c.port,
                foundation: c.foundation ?? null,
              }
            : null;
        entry.selected = {
          local: pick(stats.get(pair.localCandidateId)),
          remote: pick(stats.get(pair.remoteCandidateId)),
          rttMs: pair.currentRoundTripTime !== undefined ? Math.round(pair.currentRoundTripTime * 1000 * 10) / 10 : null,
        };
      }
    }
    out.push(entry);
  }
  return out;
}

/** Absolute time (ms since the epoch, high resolution) of this document's first response byte, and its navigation start. */
export function documentTiming() {
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    timeOrigin: performance.timeOrigin,
    responseStartAbs: nav ? performance.timeOrigin + nav.responseStart : null,
    pageName: window.pageName ?? null,
    // The shell's inline script names it at once; its client.js (window.__wingman) may come after the app showed.
    shell: Boolean(window.__wingmanShell || window.__wingman),
    secureContext: window.isSecureContext,
  };
}

/**
 * This document's navigation milestones as absolute times (ms since the
 * epoch): when it started, when a Service Worker was reached, the request
 * left, the first and last response byte, and DOMContentLoaded.
 */
export function navigationMilestones() {
  const nav = performance.getEntriesByType('navigation')[0];
  const abs = (ms) => (nav && ms > 0 ? performance.timeOrigin + ms : null);
  return {
    start: performance.timeOrigin,
    workerStart: abs(nav?.workerStart ?? 0),
    requestStart: abs(nav?.requestStart ?? 0),
    responseStart: abs(nav?.responseStart ?? 0),
    responseEnd: abs(nav?.responseEnd ?? 0),
    domContentLoaded: abs(nav?.domContentLoadedEventEnd ?? 0),
  };
}

/** The shell's transport status, start-up timeline and P2P errors (null without a shell), stamped with performance.now(). */
export function shellState() {
  const w = window.__wingman;
  if (!w) return null;
  return { nowMs: Math.round(performance.now()), status: w.status(), timeline: w.timeline(), errors: w.errors() };
}

/** The shell's status badge text (e.g. "P2P · 21 ms · bulk via relay"), or null without one. */
export function badgeText() {
  return document.querySelector('wingman-status')?.shadowRoot?.querySelector('.t')?.textContent ?? null;
}

/**
 * GET /bytes?n=… from the app; time to the last byte; SHA-256 of what arrived.
 * A transfer that does not finish in `timeoutMs` fails with where it stood:
 * whether its head came, what carried it, the bytes in and the last byte's age.
 */
export async function download({ bytes, timeoutMs }) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const started = performance.now();
  let head = null;
  let got = 0;
  let lastByteAt = started;
  try {
    const r = await fetch(`/bytes?n=${bytes}`, { cache: 'no-store', signal: ac.signal });
    head = {
      status: r.status,
      at: Math.round(performance.now() - started),
      transport: r.headers.get('x-wingman-transport'),
      route: r.headers.get('x-wingman-route'),
    };
    const out = new Uint8Array(bytes);
    const reader = r.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (got + value.length > bytes) throw new Error(`more than ${bytes} bytes`);
      out.set(value, got);
      got += value.length;
      lastByteAt = performance.now();
    }
    const ms = performance.now() - started;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', out.subarray(0, got)));
    const sha = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    return { status: r.status, bytes: got, ms, sha, transport: head.transport, route: head.route };
  } catch (err) {
    const where = head
      ? `head ${head.status} at ${head.at} ms via ${head.transport} (${head.route}), ${got} of ${bytes} bytes, the last ${Math.round(performance.now() - lastByteAt)} ms ago`
      : `no head after ${Math.round(performance.now() - started)} ms`;
    throw new Error(`download: ${err?.name ?? 'Error'}: ${err?.message ?? err} (${where})`);
  } finally {
    clearTimeout(timer);
  }
}

/** `count` sequential small GETs after `warmup` unmeasured ones: p50/p99 and every sample (ms, in order), statuses, transports. */
export async function smallRequests({ path, count, warmup, timeoutMs }) {
  const deadline = performance.now() + timeoutMs;
  const times = [];
  const transports = {};
  let bad = 0;
  for (let i = 0; i < warmup + count; i++) {
    if (performance.now() > deadline) throw new Error(`small requests exceeded ${timeoutMs} ms after ${i}`);
    const t = performance.now();
    const r = await fetch(path, { cache: 'no-store', signal: AbortSignal.timeout(Math.max(1, deadline - performance.now())) });
    const body = await r.json().catch(() => null);
    if (i < warmup) continue;
    times.push(performance.now() - t);
    if (r.status !== 200 || !body || body.hello !== 'lab') bad++;
    const tr = r.headers.get('x-wingman-transport') ?? 'none';
    transports[tr] = (transports[tr] ?? 0) + 1;
  }
  // In the order taken, so an outlier can be placed (periodic work, a new connection).
  const samplesMs = times.map((ms) => Math.round(ms * 10) / 10);
  times.sort((a, b) => a - b);
  // p99 of 50 samples is the slowest one: say so where it is reported.
  const p99Ms = times[Math.max(0, Math.ceil(times.length * 0.99) - 1)];
  return { p50Ms: times[Math.floor(times.length / 2)], p99Ms, count: times.length, bad, transports, samplesMs };
}

/** POST /upload with `bytes` random bytes; time to the app's answer; the app's count and SHA-256 against ours. */
export async function upload({ bytes, timeoutMs }) {
  const body = new Uint8Array(bytes);
  // getRandomValues fills at most 64 KiB per call.
  for (let o = 0; o < bytes; o += 65536) crypto.getRandomValues(body.subarray(o, Math.min(bytes, o + 65536)));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  const sha = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  const started = performance.now();
  const r = await fetch('/upload', { method: 'POST', body, cache: 'no-store', signal: AbortSignal.timeout(timeoutMs) });
  const answer = await r.json().catch(() => null);
  const ms = performance.now() - started;
  return {
    status: r.status,
    ms,
    intact: Boolean(answer && answer.bytes === bytes && answer.sha === sha),
    transport: r.headers.get('x-wingman-transport'),
    route: r.headers.get('x-wingman-route'),
  };
}

/**
 * The app document's subresources (Resource Timing): how many, their
 * durations (p50, slowest, how many took over 1 s) and when the last one
 * ended (ms from the document's time origin). Shows whether a page load was
 * a waterfall of slow requests or a few stalled ones.
 */
export function resourceSummary() {
  const entries = performance.getEntriesByType('resource');
  const durations = entries.map((e) => e.duration).sort((a, b) => a - b);
  const round = (ms) => Math.round(ms);
  return {
    count: entries.length,
    p50Ms: durations.length > 0 ? round(durations[Math.floor(durations.length / 2)]) : null,
    maxMs: durations.length > 0 ? round(durations[durations.length - 1]) : null,
    over1s: durations.filter((d) => d > 1000).length,
    lastEndMs: entries.length > 0 ? round(Math.max(...entries.map((e) => e.responseEnd))) : null,
  };
}

/**
 * The Service Worker's count of requests by route (`p2p default`,
 * `relay no-channel`, …), asked on its diagnostics BroadcastChannel as the
 * diagnostics page asks; null when no Service Worker answers within `timeoutMs`
 * (none runs, or it is stopped: a BroadcastChannel message does not start one).
 */
export function swRouteCounts({ timeoutMs }) {
  if (typeof BroadcastChannel !== 'function') return Promise.resolve(null);
  return new Promise((resolve) => {
    const channel = new BroadcastChannel('wingman-diagnostics');
    const id = `lab-${Math.random().toString(36).slice(2)}`;
    const done = (v) => {
      clearTimeout(timer);
      channel.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    channel.onmessage = (ev) => {
      if (ev.data?.type === 'wingman:diag-routes' && ev.data.id === id) done(ev.data.routes);
    };
    channel.postMessage({ type: 'wingman:diag-request', id });
  });
}

/** Registers the Service Worker at `path` and resolves once it controls the page; rejects after `timeoutMs`. */
export function registerWorker({ path, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path} did not control the page within ${timeoutMs} ms`)), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    if (navigator.serviceWorker.controller?.scriptURL.endsWith(path)) return done();
    navigator.serviceWorker.addEventListener('controllerchange', done, { once: true });
    navigator.serviceWorker.register(path).catch((err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** When the app's page ran its ready marker (absolute ms, high resolution), or null. */
export function appReadyAt() {
  return typeof window.appReadyAt === 'number' ? window.appReadyAt : null;
}

/**
 * Arms the HMR probe: window.__labHmr resolves with the absolute time (ms
 * since the epoch, high resolution) at which `selector` first shows `text`
 * (a MutationObserver on the document), or null after `timeoutMs`. Also
 * marks the document, so that a full reload (instead of a hot update) shows.
 */
export function armTextWatch({ selector, text, timeoutMs }) {
  window.__labDocMark = true;
  window.__labHmr = new Promise((resolve) => {
    const now = () => performance.timeOrigin + performance.now();
    const matches = () => document.querySelector(selector)?.textContent === text;
    if (matches()) return resolve(now());
    const observer = new MutationObserver(() => {
      if (!matches()) return;
      const at = now();
      observer.disconnect();
      clearTimeout(timer);
      resolve(at);
    });
    const timer = setTimeout(() => {
      observer.disconnect();
      resolve(null);
    }, timeoutMs);
    observer.observe(document, { subtree: true, childList: true, characterData: true });
  });
}

/** The armed HMR probe's outcome: when the text showed (null: not within the timeout), and whether this is still the same document. */
export async function textWatchResult() {
  if (!window.__labDocMark) return { at: null, sameDocument: false };
  return { at: await window.__labHmr, sameDocument: true };
}

/**
 * Init script for every document: room for every resource's timing (the
 * default buffer of 250 entries drops the rest of a 300-module app's load).
 */
export function widenResourceTimingBuffer() {
  performance.setResourceTimingBufferSize(10000);
}

/** Each of this document's requests (Resource Timing): its path and requestStart → responseEnd in ms (from startTime when requestStart is not given). */
/**
 * Each of this document's requests (Resource Timing), in ms from its time
 * origin: path, start `s`, Service Worker reached `w`, request sent `q`,
 * response head `h` and end `e` (null where Chromium gives none), the
 * protocol `p` ('' for a response the Service Worker made) and transferSize `t`.
 */
export function requestTimeline() {
  const r = (v) => (v > 0 ? Math.round(v) : null);
  return performance.getEntriesByType('resource').map((e) => {
    let name = e.name;
    try {
      name = new URL(e.name).pathname;
    } catch {
      /* keep */
    }
    return {
      name,
      s: r(e.startTime),
      w: r(e.workerStart),
      q: r(e.requestStart),
      h: r(e.responseStart),
      e: r(e.responseEnd),
      p: e.nextHopProtocol,
      t: e.transferSize,
    };
  });
}

export function requestTimes() {
  return performance.getEntriesByType('resource').map((e) => {
    let name = e.name;
    try {
      name = new URL(e.name).pathname;
    } catch {
      /* keep the full name */
    }
    return { name, ms: e.responseEnd - (e.requestStart > 0 ? e.requestStart : e.startTime) };
  });
}

/**
 * The counters of the shell's newest peer connection (recordPeerConnections)
 * from getStats(): its selected candidate pair, its transport and its data
 * channels (summed; closed ones included while getStats() lists them) in
 * `counters`; its state, open channels and the pair's RTT now; `id` names
 * the connection (a reload or a retry makes a new one); null without one.
 */
export async function transportCounters() {
  const peers = window.__labPeers || [];
  if (peers.length === 0) return null;
  const rec = peers[peers.length - 1];
  const stats = await rec.pc.getStats();
  const pick = (s, keys) => Object.fromEntries(keys.map((k) => [k, typeof s?.[k] === 'number' ? s[k] : 0]));
  let transport;
  const channels = { messagesSent: 0, messagesReceived: 0, bytesSent: 0, bytesReceived: 0 };
  let open = 0;
  stats.forEach((s) => {
    if (s.type === 'transport' && (!transport || s.selectedCandidatePairId)) transport = s;
    if (s.type === 'data-channel') {
      if (s.state === 'open') open++;
      for (const k of ['messagesSent', 'messagesReceived', 'bytesSent', 'bytesReceived']) channels[k] += typeof s[k] === 'number' ? s[k] : 0;
    }
  });
  const pair = transport?.selectedCandidatePairId ? stats.get(transport.selectedCandidatePairId) : undefined;
  const traffic = ['packetsSent', 'packetsReceived', 'bytesSent', 'bytesReceived'];
  return {
    id: `${performance.timeOrigin}:${peers.length - 1}`,
    state: rec.pc.connectionState,
    openChannels: open,
    rttMs: typeof pair?.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 10000) / 10 : null,
    counters: {
      pair: pick(pair, [...traffic, 'requestsSent', 'responsesReceived']),
      transport: pick(transport, [...traffic, 'selectedCandidatePairChanges']),
      dataChannels: channels,
    },
  };
}
