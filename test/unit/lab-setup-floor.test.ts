/**
 * The unavoidable part of a P2P load's channel set-up, from a scenario's
 * configured delays, and where the measured set-up spent the rest
 * (scripts/lab/setup-floor.mjs, shown on the lab's floor goal lines).
 */
import { judgeWanGoals } from '../../scripts/lab/report.mjs';
import { PEER_ROUND_TRIPS, formatSetupFloor, setupFloor } from '../../scripts/lab/setup-floor.mjs';

// far-server: server 80 ms from both ends, peers 20 ms apart.
const FAR = { reviewerServer: { rttMs: 80 }, devServer: { rttMs: 80 }, reviewerDev: { rttMs: 20 } };
const timeline = { attempt: 100, 'signal-open': 189, hello: 190, offer: 195, answer: 360, ready: 500 };

describe('the channel set-up floor', () => {
  it('counts a reload as 1 server round trip for the document, 1 for the socket, server-agent-server for the answer and 6 peer round trips', () => {
    expect(PEER_ROUND_TRIPS).toBe(6);
    const f = setupFloor(FAR, { timeline, shellDocument: { responseEnd: 90 } }, false)!;
    expect(f.floorMs).toBe(80 + 80 + 160 + 6 * 20);
    expect(f.readyMs).toBe(500);
    expect(f.steps.map((s) => [s.name, s.ms, s.floorMs])).toEqual([
      ['document', 90, 80],
      ['to the attempt', 10, 0],
      ['signaling socket', 90, 80],
      ['offer', 5, 0],
      ['offer → answer', 165, 160],
      ['answer → ready', 140, 120],
    ]);
    // The steps add up to the ready mark, their floors to the floor.
    expect(f.steps.reduce((s, x) => s + x.ms, 0)).toBe(f.readyMs);
    expect(formatSetupFloor(f)).toBe(
      'unavoidable channel set-up 440 ms (document 80 + signaling socket 80 + offer → answer 160 + answer → ready 120: 6 peer round trips for ICE, DTLS, SCTP and HELLO), ' +
        'ready 60 ms above it: document +10, to the attempt +10, signaling socket +10, offer +5, offer → answer +5, answer → ready +20',
    );
  });

  it('adds the connection (TCP and TLS: 2 more server round trips) to a first visit, and shows a step under its floor as negative', () => {
    const f = setupFloor(FAR, { timeline: { ...timeline, attempt: 250, hello: 330, offer: 335 }, shellDocument: { responseEnd: 255 } }, true)!;
    expect(f.floorMs).toBe(3 * 80 + 80 + 160 + 6 * 20);
    expect(f.steps[0]).toEqual({ name: 'document', ms: 255, floorMs: 240 });
    expect(f.steps[1]).toEqual({ name: 'to the attempt', ms: -5, floorMs: 0 });
    expect(formatSetupFloor(f)).toContain('to the attempt -5, signaling socket +0');
  });

  it('splits off the time the answer waited for client.js when the shell marked its arrival', () => {
    const f = setupFloor(FAR, { timeline: { ...timeline, 'answer-in': 330 }, shellDocument: { responseEnd: 90 } }, false)!;
    expect(f.steps.map((s) => [s.name, s.ms])).toEqual([
      ['document', 90],
      ['to the attempt', 10],
      ['signaling socket', 90],
      ['offer', 5],
      ['offer → answer', 135],
      ['answer held', 30],
      ['answer → ready', 140],
    ]);
    expect(f.steps.reduce((s, x) => s + x.ms, 0)).toBe(f.readyMs);
    expect(formatSetupFloor(f)).toContain('offer → answer -25, answer held +30, answer → ready +20');
    // With the inline script's start marked, the wait before it is a step of its own.
    const scripted = setupFloor(FAR, { timeline: { ...timeline, inline: 96 }, shellDocument: { responseEnd: 90 } }, false)!;
    expect(scripted.steps.slice(1, 3).map((s) => [s.name, s.ms])).toEqual([
      ['to the script', 6],
      ['to the attempt', 4],
    ]);
    expect(scripted.steps.reduce((s, x) => s + x.ms, 0)).toBe(scripted.readyMs);
    // Applied as it came (client.js already ran): no step of its own.
    const applied = setupFloor(FAR, { timeline: { ...timeline, 'answer-in': 360 }, shellDocument: { responseEnd: 90 } }, false)!;
    expect(applied.steps.map((s) => s.name)).not.toContain('answer held');
  });

  it('gives nothing without delays or with a mark missing', () => {
    expect(setupFloor(undefined, { timeline, shellDocument: { responseEnd: 90 } }, false)).toBeUndefined();
    expect(setupFloor(FAR, { timeline, shellDocument: {} }, false)).toBeUndefined();
    const { answer: _answer, ...noAnswer } = timeline;
    expect(setupFloor(FAR, { timeline: noAnswer, shellDocument: { responseEnd: 90 } }, false)).toBeUndefined();
  });

  it("puts each far-server load's floor on its goal line, from that load's own timeline", () => {
    const row = (mode: string, figures: Record<string, unknown>) => ({ scenario: 'far-server', mode, ok: true, failed: [], ...figures });
    const goals = judgeWanGoals([
      row('p2p', {
        coldMs: 2000,
        coldAppDocument: { responseEnd: 900 },
        coldShellDocument: { responseEnd: 255 },
        timeline: { ...timeline, attempt: 260, hello: 350, offer: 355, answer: 520, ready: 660 },
        warmReload: { ms: 1400, appDocument: { responseEnd: 150 }, shellDocument: { responseEnd: 90 }, timeline },
      }),
      row('direct', { coldMs: 1200, coldAppDocument: { responseEnd: 100 }, warmReload: { ms: 650, appDocument: { responseEnd: 30 } } }),
    ]);
    const cold = goals.find((g) => g.text.startsWith('cold visit'))!;
    expect(cold.text).toContain('; unavoidable channel set-up 600 ms (document 240 + ');
    expect(cold.text).toContain('ready 60 ms above it: document +15, to the attempt +5, signaling socket +10');
    const warm = goals.find((g) => g.text.startsWith('warm reload'))!;
    expect(warm.text).toContain('; unavoidable channel set-up 440 ms (document 80 + ');
    // No timeline for the reload with the SW stopped: no floor on its line.
    expect(goals.find((g) => g.text.startsWith('reload, SW stopped'))!.text).not.toContain('unavoidable');
  });
});
