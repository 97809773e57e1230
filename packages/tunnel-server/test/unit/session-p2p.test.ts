/**
 * The P2P settings a viewer's hello carries (signaling/signal-endpoint.ts
 * sessionP2P): the loss probe setting and the speed switches only when the server turns them off,
 * so that viewers parsing the hello strictly see nothing new by default.
 */
import { parseP2PSettings, SPEED_SWITCHES } from '@wingman/protocol';
import { resolveConfig } from '../../src/config';
import { sessionP2P } from '../../src/signaling/signal-endpoint';
import type { Session } from '../../src/sessions/registry';

const session = { id: 'a'.repeat(26), agent: { p2p: true } } as unknown as Session;

describe("a viewer's P2P settings", () => {
  it('leave the loss probe out by default (absent means on) and say false when the server turns it off', () => {
    expect(sessionP2P(resolveConfig(), session, 'v1')).not.toHaveProperty('lossProbe');
    expect(sessionP2P(resolveConfig({ p2p: { lossProbe: false } }), session, 'v1')).toMatchObject({ enabled: true, lossProbe: false });
  });

  it.each(SPEED_SWITCHES)('leave the %s switch out by default and say false, in a form the protocol accepts, when the server turns it off', (name) => {
    expect(sessionP2P(resolveConfig(), session, 'v1')).not.toHaveProperty(name);
    const off = sessionP2P(resolveConfig({ p2p: { [name]: false } }), session, 'v1');
    expect(off).toMatchObject({ enabled: true, [name]: false });
    expect(parseP2PSettings(JSON.parse(JSON.stringify(off)) as Record<string, unknown>)).toMatchObject({ [name]: false });
    for (const other of SPEED_SWITCHES.filter((n) => n !== name)) expect(off).not.toHaveProperty(other);
  });
});
