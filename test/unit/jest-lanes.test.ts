/**
 * The runner's lanes (scripts/lib/jest-resume-sequencer.cjs): jest's real sequencer over real test
 * files of this repository, sorted with WINGMAN_JEST_LANE set as the runner sets it. The `shared`
 * lanes (integration beside e2e) leave out the files marked `@solo`; the `solo` phase runs only those.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const Sequencer = createRequire(__filename)(resolve(ROOT, 'scripts/lib/jest-resume-sequencer.cjs')) as new () => {
  sort(tests: Array<{ path: string }>): Array<{ path: string }>;
};

const SOLO = resolve(ROOT, 'test/integration/ws-message-cap.test.ts');
const SHARED = resolve(ROOT, 'test/integration/census.test.ts');
const context = { config: { cache: false, rootDir: ROOT }, hasteFS: { getSize: () => 0 } };

function sortedIn(lane: string | undefined): string[] {
  const saved = process.env.WINGMAN_JEST_LANE;
  if (lane === undefined) delete process.env.WINGMAN_JEST_LANE;
  else process.env.WINGMAN_JEST_LANE = lane;
  try {
    return new Sequencer()
      .sort([SOLO, SHARED].map((path) => ({ path, context })))
      .map((t) => t.path)
      .sort();
  } finally {
    if (saved === undefined) delete process.env.WINGMAN_JEST_LANE;
    else process.env.WINGMAN_JEST_LANE = saved;
  }
}

describe('the lanes of the integration and e2e phases', () => {
  it('keeps a file marked @solo out of the shared lanes and runs only such files in the solo phase', () => {
    expect(sortedIn('shared')).toEqual([SHARED]);
    expect(sortedIn('solo')).toEqual([SOLO]);
  });

  it('keeps every file without a lane (unit, lab)', () => {
    expect(sortedIn(undefined)).toEqual([SHARED, SOLO].sort());
  });

  it('refuses a lane it does not know, naming the two it has', () => {
    expect(() => sortedIn('side')).toThrow('WINGMAN_JEST_LANE must be shared or solo, got "side"');
  });
});
