/**
 * The server's switches of the Service Worker's speed mechanisms
 * (sw/switches.ts), as shells announce them; the mechanisms that read them
 * are tested with their own code (route-decision.test.ts, bulk-race.test.ts).
 */
import { createSwitches } from '../../src/sw/switches';

describe("the SW's switches", () => {
  it('are all on until a shell says otherwise; the latest list told wins, an announcement without one is no news', () => {
    const s = createSwitches();
    expect(s.on('bulkRace')).toBe(true);
    s.announced({ off: ['bulkRace'] });
    expect([s.on('bulkRace'), s.on('pathChoice')]).toEqual([false, true]);
    s.announced({});
    expect(s.on('bulkRace')).toBe(false);
    s.announced({ off: [] });
    expect(s.on('bulkRace')).toBe(true);
  });
});
