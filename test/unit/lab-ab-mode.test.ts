/**
 * The lab's on/off A/B (scripts/lab/ab-mode.mjs): `--ab "NAME=VALUE …"` adds
 * the `p2p-ab` WAN mode, the p2p mode with those variables for the tunnel
 * server and the agent; `--rows-only` drops the relay-only mode's extra
 * experiments. Bad input is refused by the lab before it builds anything.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AB_MODE, abMode, parseAbEnv, rowsOnly } from '../../scripts/lab/ab-mode.mjs';
import { abLines } from '../../scripts/lab/ab-report.mjs';

const LAB = join(__dirname, '../../scripts/lab/index.mjs');

describe('lab --ab', () => {
  it('reads NAME=VALUE words into the environment of the p2p-ab mode', () => {
    const env = parseAbEnv('  P2P_LOSS_PROBE=false   P2P_VIDEO_SECTION=false ');
    expect(env).toEqual({ P2P_LOSS_PROBE: 'false', P2P_VIDEO_SECTION: 'false' });
    const mode = abMode(env);
    expect(mode.mode).toBe(AB_MODE);
    expect(mode.title).toBe('Wingman P2P with P2P_LOSS_PROBE=false P2P_VIDEO_SECTION=false');
    expect(mode.apply({ name: 'far-server', relayOnly: false })).toEqual({ name: 'far-server', relayOnly: false, mode: AB_MODE, env });
  });

  it.each([[''], ['p2p=1'], ['P2P CHANNELS=1'], ['=1']])('refuses %j', (text) => {
    expect(() => parseAbEnv(text)).toThrow(/--ab/);
  });

  it('turns off the bulk floor, the set-up race and the Service Worker floors with --rows-only', () => {
    expect(rowsOnly({ name: 'far-server', bulkFloor: true, setupRace: true, swFloor: true })).toEqual({
      name: 'far-server',
      bulkFloor: false,
      setupRace: false,
      swFloor: false,
    });
  });

  it('makes the lab exit 2 with the reason on a malformed --ab or one without --wan', () => {
    const bad = spawnSync(process.execPath, [LAB, '--wan', '--ab', 'p2p=1', '--only', 'far-server'], { encoding: 'utf8', timeout: 30_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('"p2p=1" is not NAME=VALUE');
    const noWan = spawnSync(process.execPath, [LAB, '--ab', 'P2P_LOSS_PROBE=false', '--only', 'far-server'], { encoding: 'utf8', timeout: 30_000 });
    expect(noWan.status).toBe(2);
    expect(noWan.stderr).toContain('--ab needs --wan');
  });

  it('reports each mode as median [min–max] and its per-run ratio to relay-only of the same round', () => {
    const row = (mode: string, coldMs: number[]) => ({ scenario: 'far-server', mode, samples: { coldMs } });
    const lines = abLines([row('p2p', [100, 300, 200]), row('p2p-ab', [400, 400, 500]), row('relay-only', [200, 200, 400]), { kind: 'goals' }]);
    expect(lines.slice(2)).toEqual(['| far-server | cold visit ms | 200 [100–300] | 400 [400–500] | 0.50 [0.50–1.50] | 2.00 [1.25–2.00] |']);
  });
});
