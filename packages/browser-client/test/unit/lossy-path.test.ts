/**
 * The one "lossy path" state of the Service Worker (src/sw/lossy-path.ts),
 * one row per case: what it is told (lone small P2P requests' times through
 * the real path chooser, shells' announcements, shells gone) and the two
 * answers the routing rules take from it.
 */
import type { ShellAnnounce } from '../../src/shared/messages';
import { LossyPath, STALL_CLEAR_SAMPLES } from '../../src/sw/lossy-path';
import { PathChooser, RTT_WINDOW_MS } from '../../src/sw/path-choice';

type Event =
  /** Lone small requests over P2P, their times to the head (ms), one ms apart. */
  | { lone: number[] }
  /** Time passes: the lone requests so far leave the chooser's window. */
  | { later: true }
  /** STALL_CLEAR_SAMPLES lone requests at the path's best time. */
  | { clean: true }
  | { announce: string; p2p: boolean; lossy?: true; lossClean?: true; probing?: true }
  | { gone: string };

interface Answers {
  stalls: boolean;
  /** A loss probe pending on any shell's channel. */
  probing: boolean;
  /** …on s1's channel. */
  probingS1?: boolean;
}

function run(events: Event[]): Answers & { probingS1: boolean } {
  const lossy = new LossyPath();
  const paths = new PathChooser(lossy);
  let now = 1_000;
  const lone = (times: number[]) => times.forEach((ms) => paths.recordHead('small', ms, now++));
  for (const e of events) {
    if ('lone' in e) lone(e.lone);
    else if ('later' in e) now += RTT_WINDOW_MS + 1;
    else if ('clean' in e) lone(Array.from({ length: STALL_CLEAR_SAMPLES }, () => 66));
    else if ('gone' in e) lossy.gone(e.gone);
    else {
      const { announce, ...flags } = e;
      lossy.announced({ type: 'wingman:shell', shellId: announce, exclude: [], ...flags } satisfies ShellAnnounce);
    }
  }
  return { stalls: lossy.stalls(), probing: lossy.probing(), probingS1: lossy.probing('s1') };
}

/** 2 % loss, lost packets waiting for the retransmission timer (measured). */
const STALLING = [66, 70, 68, 469, 72, 469, 69, 471, 75];
const lossyS1: Event = { announce: 's1', p2p: true, lossy: true };

const rows: Array<[string, Event[], Answers]> = [
  ['told nothing: no stall, no probe pending', [], { stalls: false, probing: false }],
  // Lone requests' times.
  ['lone requests that waited for a retransmission of a lost packet', [{ lone: STALLING }], { stalls: true, probing: false }],
  ['lone requests whose losses the tail-loss probes repaired', [{ lone: [66, 67, 68, 128, 69, 141, 72, 70, 138, 68] }], { stalls: true, probing: false }],
  ['jitter is no stall', [{ lone: [25.7, 29, 31, 31, 32, 28, 30] }], { stalls: false, probing: false }],
  ['the app taking tens of ms more, over a short path, is no stall', [{ lone: [28, 29, 65, 70, 72, 30, 74] }], { stalls: false, probing: false }],
  ['two slow requests are no stall', [{ lone: [66, 70, 469, 68, 300] }], { stalls: false, probing: false }],
  ['a stall verdict outlasts its samples', [{ lone: STALLING }, { later: true }, { lone: [66] }], { stalls: true, probing: false }],
  ['…until lone requests without a stall clear it', [{ lone: STALLING }, { later: true }, { clean: true }], { stalls: false, probing: false }],
  // The loss probe's verdicts.
  ["a shell's lossy verdict is a stall before any lone request", [lossyS1], { stalls: true, probing: false }],
  [
    'lone requests without a stall clear it',
    [lossyS1, { lone: Array.from({ length: STALL_CLEAR_SAMPLES - 1 }, () => 66) }, { lone: [67] }],
    { stalls: false, probing: false },
  ],
  ['taken once per channel: its re-announcements do not bring it back', [lossyS1, { clean: true }, lossyS1], { stalls: false, probing: false }],
  ["taken again from the shell's next channel", [lossyS1, { clean: true }, { announce: 's1', p2p: false }, lossyS1], { stalls: true, probing: false }],
  ["taken again from another shell's", [lossyS1, { clean: true }, { announce: 's2', p2p: true, lossy: true }], { stalls: true, probing: false }],
  [
    'taken while the shell is between channels, and again when the next opens',
    [{ announce: 's1', p2p: false, lossy: true }, { clean: true }, { announce: 's1', p2p: false, lossy: true }, lossyS1],
    { stalls: true, probing: false },
  ],
  [
    'between channels, taken once',
    [{ announce: 's1', p2p: false, lossy: true }, { clean: true }, { announce: 's1', p2p: false, lossy: true }],
    { stalls: false, probing: false },
  ],
  [
    'taken back by the same shell finding the path clean',
    [lossyS1, { lone: [66, 67] }, { announce: 's1', p2p: true, lossClean: true }],
    { stalls: false, probing: false },
  ],
  ["not taken back by another shell's clean probe", [lossyS1, { announce: 's2', p2p: true, lossClean: true }], { stalls: true, probing: false }],
  [
    'not taken back once lone requests stalled too',
    [lossyS1, { lone: STALLING }, { announce: 's1', p2p: true, lossClean: true }],
    { stalls: true, probing: false },
  ],
  [
    'a clean probe leaves a verdict lone requests formed',
    [{ lone: STALLING }, lossyS1, { announce: 's1', p2p: true, lossClean: true }],
    { stalls: true, probing: false },
  ],
  ['kept when the shell goes away', [lossyS1, { announce: 's1', p2p: false }, { gone: 's1' }], { stalls: true, probing: false }],
  // Pending loss probes.
  [
    "a channel's pending loss probe, that shell's and any shell's, no stall",
    [{ announce: 's1', p2p: true, probing: true }],
    { stalls: false, probing: true, probingS1: true },
  ],
  ["another shell's pending probe is not s1's", [{ announce: 's2', p2p: true, probing: true }], { stalls: false, probing: true, probingS1: false }],
  ['no probe without a channel', [{ announce: 's1', p2p: false, probing: true }], { stalls: false, probing: false }],
  [
    'pending until the next announcement says otherwise',
    [
      { announce: 's1', p2p: true, probing: true },
      { announce: 's1', p2p: true },
    ],
    { stalls: false, probing: false },
  ],
  ['pending until the shell is gone', [{ announce: 's1', p2p: true, probing: true }, { gone: 's1' }], { stalls: false, probing: false }],
];

describe('the lossy path state', () => {
  it.each(rows)('%s', (_name, events, expected) => {
    const answers = run(events);
    expect(answers).toEqual({ probingS1: expected.probing, ...expected });
  });
});
