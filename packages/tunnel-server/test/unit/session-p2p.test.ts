/**
 * The P2P settings a viewer's hello carries (signaling/signal-endpoint.ts
 * sessionP2P): the loss probe setting only when the server turns it off,
 * so that viewers parsing the hello strictly see nothing new by default.
 */
import { resolveConfig } from '../../src/config';
import { sessionP2P } from '../../src/signaling/signal-endpoint';
import type { Session } from '../../src/sessions/registry';

const session = { id: 'a'.repeat(26), agent: { p2p: true } } as unknown as Session;

describe("a viewer's P2P settings", () => {
  it('leave the loss probe out by default (absent means on) and say false when the server turns it off', () => {
    expect(sessionP2P(resolveConfig(), session, 'v1')).not.toHaveProperty('lossProbe');
    expect(sessionP2P(resolveConfig({ p2p: { lossProbe: false } }), session, 'v1')).toMatchObject({ enabled: true, lossProbe: false });
  });
});
