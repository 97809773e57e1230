/**
 * The part of a P2P load's channel set-up that no implementation can avoid on
 * a scenario's network, computed from its configured delays, and where the
 * measured set-up spent each millisecond above it (the floor goal lines,
 * report.mjs). Per step of the shell's timeline (ms after navigation start,
 * docs/lab.md), its unavoidable part:
 *
 * - the shell's document: 1 reviewer↔server round trip for the request on a
 *   kept-alive connection (the reloads); 3 on a first visit, which also
 *   opens the connection (TCP, then TLS 1.3: one round trip each);
 * - the inline script starting the attempt: 0 after the document's end;
 * - the signaling socket up and its hello in: 1 reviewer↔server round trip
 *   (a WebSocket over the page's HTTP/2 connection, extended CONNECT; the
 *   server sends the hello as it accepts);
 * - the offer leaving: 0 after the hello;
 * - offer → answer: reviewer → server → agent → server → reviewer, one
 *   reviewer↔server plus one dev↔server round trip;
 * - answer → channel ready: PEER_ROUND_TRIPS reviewer↔dev round trips.
 */

/**
 * Peer round trips from the answer's arrival to a usable channel, at least:
 * ICE 1 (the reviewer's check of the agent's candidate and its answer: the
 * agent had the reviewer's candidates first, so its own checks opened its
 * NAT), DTLS 1.2 2 (ClientHello → server flight → client Finished → server
 * Finished; WebRTC sends no HelloVerifyRequest), SCTP 2 (INIT / INIT-ACK,
 * COOKIE-ECHO / COOKIE-ACK, the data channel's OPEN riding with the
 * COOKIE-ECHO; an ordered channel is open without waiting for its ACK), and
 * Wingman's protocol HELLO 1 (the page's HELLO and the agent's: the page's
 * requests wait for the agent's, docs/PROTOCOL.md §Connection).
 */
export const PEER_ROUND_TRIPS = 6;
/** Reviewer↔server round trips of the shell's document: a reload reuses the connection, a first visit opens it. */
const DOCUMENT_ROUND_TRIPS = { reload: 1, firstVisit: 3 };

/**
 * @typedef {{ reviewerServer: { rttMs: number }, devServer: { rttMs: number }, reviewerDev: { rttMs: number } }} WanDelays
 * @typedef {{ name: string, ms: number, floorMs: number }} SetupStep
 */

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * The unavoidable channel-ready time of one load and the measured steps next
 * to theirs; undefined when the scenario has no delays or a mark is missing.
 * @param {WanDelays | undefined} wan the scenario's configured delays
 * @param {{ timeline?: Record<string, number>, shellDocument?: { responseEnd?: number | null } }} load
 * @param {boolean} firstVisit
 * @returns {{ floorMs: number, readyMs: number, steps: SetupStep[] } | undefined}
 */
export function setupFloor(wan, load, firstVisit) {
  if (!wan) return undefined;
  const rs = wan.reviewerServer.rttMs;
  const ds = wan.devServer.rttMs;
  const rd = wan.reviewerDev.rttMs;
  const t = load.timeline ?? {};
  const marks = [num(load.shellDocument?.responseEnd), num(t.attempt), num(t.hello), num(t.offer), num(t.answer), num(t.ready)];
  if (marks.some((m) => m === undefined)) return undefined;
  const [doc, attempt, hello, offer, answer, ready] = /** @type {number[]} */ (marks);
  // When the answer arrived, if the shell says (`answer-in`): client.js applies it once its MAC is checked.
  const arrived = Math.min(num(t['answer-in']) ?? answer, answer);
  const inline = num(t.inline);
  /** @type {SetupStep[]} */
  const steps = [
    { name: 'document', ms: doc, floorMs: (firstVisit ? DOCUMENT_ROUND_TRIPS.firstVisit : DOCUMENT_ROUND_TRIPS.reload) * rs },
    // The shell's inline script starting (`inline`, when marked): before it, the time is the browser's.
    ...(inline !== undefined && inline <= attempt
      ? [
          { name: 'to the script', ms: inline - doc, floorMs: 0 },
          { name: 'to the attempt', ms: attempt - inline, floorMs: 0 },
        ]
      : [{ name: 'to the attempt', ms: attempt - doc, floorMs: 0 }]),
    { name: 'signaling socket', ms: hello - attempt, floorMs: rs },
    { name: 'offer', ms: offer - hello, floorMs: 0 },
    { name: 'offer → answer', ms: arrived - offer, floorMs: rs + ds },
    ...(arrived < answer ? [{ name: 'answer held', ms: answer - arrived, floorMs: 0 }] : []),
    { name: 'answer → ready', ms: ready - answer, floorMs: PEER_ROUND_TRIPS * rd },
  ];
  return { floorMs: steps.reduce((s, x) => s + x.floorMs, 0), readyMs: ready, steps };
}

/**
 * The floor's text for a goal line: the unavoidable total with its parts,
 * then each step's ms above its part.
 * @param {NonNullable<ReturnType<typeof setupFloor>>} f
 */
export function formatSetupFloor(f) {
  const r = (v) => Math.round(v);
  const parts = f.steps.filter((s) => s.floorMs > 0).map((s) => `${s.name} ${r(s.floorMs)}`);
  const above = f.steps.map((s) => `${s.name} ${s.ms - s.floorMs >= 0 ? '+' : ''}${r(s.ms - s.floorMs)}`);
  return `unavoidable channel set-up ${r(f.floorMs)} ms (${parts.join(' + ')}: ${PEER_ROUND_TRIPS} peer round trips for ICE, DTLS, SCTP and HELLO), ready ${r(f.readyMs - f.floorMs)} ms above it: ${above.join(', ')}`;
}
