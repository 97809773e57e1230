/**
 * The lab's set-up race (scripts/lab/setup-race): its delayed file signaling
 * for real in a temporary directory, and the figures and wording over its
 * trials. The race itself runs in the WAN lab (far-server, relay-only mode).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSetupRace, raceFigures } from '../../scripts/lab/setup-race/index.mjs';
import { messageReader, writeMessage } from '../../scripts/lab/setup-race/signal-files.mjs';
import { judgeWanGoals, raceCut } from '../../scripts/lab/report.mjs';

/** A far-server row of the lab's JSON in `mode`, with `figures`. */
const row = (mode: string, figures: Record<string, unknown>) => ({ scenario: 'far-server', mode, ok: true, failed: [], transport: mode, ...figures });

describe('lab set-up race', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wm-race-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("hands a message over only once the signaling path's delay has passed, in order, one trial's at a time", async () => {
    writeMessage(dir, 'v', 0, 0, { type: 'offer', sdp: 'x' });
    writeMessage(dir, 'v', 0, 1, { type: 'candidate' });
    writeMessage(dir, 'v', 1, 0, { type: 'other trial' });
    const reader = messageReader(dir, 'v', 0, 150);
    expect(reader.next()).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(reader.next()).toEqual({ type: 'offer', sdp: 'x' });
    expect(reader.next()).toEqual({ type: 'candidate' });
    expect(reader.next()).toBeUndefined();
    expect(messageReader(dir, 'a', 0, 0).next()).toBeUndefined();
  });

  it("takes each design's medians over the trials that completed, and says what the agent's offer and resuming would take off", () => {
    const designs = raceFigures([
      { design: 'viewer-offers', marks: { answer: 170, 'remote-srflx': 250, ice: 300, dtls: 350, open: 400, echo: 420 } },
      { design: 'agent-offers', marks: { 'remote-srflx': 0, ice: 200, dtls: 250, open: 290, echo: 310 } },
      { design: 'viewer-offers', marks: { answer: 180, 'remote-srflx': 270, ice: 340, dtls: 390, open: 440, echo: 460 } },
      { design: 'agent-offers', error: 'no echo within 10000 ms' },
      { design: 'viewer-offers', marks: { answer: 175, 'remote-srflx': 260, ice: 320, dtls: 370, open: 420, echo: 440 } },
      { design: 'agent-offers', marks: { 'remote-srflx': 0, ice: 220, dtls: 270, open: 310, echo: 330 } },
      { design: 'resume', marks: { 'remote-srflx': 0, ice: 120, dtls: 160, open: 200, echo: 220 } },
    ]);
    expect(designs['viewer-offers']).toMatchObject({ trials: 3, failed: 0, medians: { answer: 175, 'remote-srflx': 260, ice: 320, echo: 440 } });
    // The agent's offer carries its candidates: no answer to wait for, its public address known at the start.
    expect(designs['agent-offers']).toMatchObject({ trials: 3, failed: 1, medians: { answer: null, 'remote-srflx': 0, ice: 210, echo: 320 } });
    const race = { delayMs: 80, designs, error: null };
    expect(raceCut(race)).toEqual({ ms: 120, viewer: 440, agent: 320 });
    expect(formatSetupRace(race)).toBe(
      "set-up race (hello → channel usable, signaling one way 80 ms): viewer-offers 440 ms (agent's public candidate in 260, ICE 320, DTLS 370, open 420; 3/3 trials), " +
        "agent-offers 320 ms (agent's public candidate in 0, ICE 210, DTLS 260, open 300; 2/3 trials), " +
        "resume 220 ms (agent's public candidate in 0, ICE 120, DTLS 160, open 200; 1/1 trials); " +
        "the agent's offer would take 120 ms off; " +
        "resuming would take 220 ms off, and the signaling socket's round trip before the hello",
    );
    expect(raceCut({ designs: { 'viewer-offers': designs['viewer-offers'] } })).toBeUndefined();
  });

  it("adds the race's cut to the far-server floor lines, with the ratio it would leave", () => {
    const designs = raceFigures([
      { design: 'viewer-offers', marks: { echo: 450 } },
      { design: 'agent-offers', marks: { echo: 330 } },
    ]);
    const goals = judgeWanGoals([
      row('p2p', { coldMs: 2620 }),
      row('relay-only', { coldMs: 3000, setupRace: { delayMs: 80, designs, error: null } }),
      row('direct', { coldMs: 1400 }),
    ]);
    const cold = goals.find((g) => g.text.startsWith('cold visit'))!;
    expect(cold.text).toContain(
      "set-up race (bare channels, same run): the agent's offer ahead would take 120 ms off the set-up (450 → 330 ms from the hello), 1.79× with it",
    );
  });

  it('adds what resuming would take off to the reloads’ floor lines, never to the first visit’s', () => {
    const designs = raceFigures([
      { design: 'viewer-offers', marks: { echo: 350 } },
      { design: 'resume', marks: { echo: 240 } },
    ]);
    const goals = judgeWanGoals([
      row('p2p', { coldMs: 2600, warmReload: { ms: 1600 } }),
      row('relay-only', { coldMs: 3000, setupRace: { delayMs: 80, designs, error: null } }),
      row('direct', { coldMs: 1700, warmReload: { ms: 1000 } }),
    ]);
    // 350 − 240 in the race, and far-server's 80 ms signaling socket: 190 ms off a 1600 ms reload.
    expect(goals.find((g) => g.text.startsWith('warm reload'))!.text).toContain(
      "; resuming would take 190 ms off (350 → 240 ms from the hello, and the signaling socket's 80 ms before it), 1.41× with it",
    );
    expect(goals.find((g) => g.text.startsWith('cold visit'))!.text).not.toContain('resuming');
  });
});
