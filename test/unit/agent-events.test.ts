/** The quick start's lines for the agent's `--json` events (scripts/lib/agent-events.mjs). */
import { formatAgentEvent } from '../../scripts/lib/agent-events.mjs';

describe("the quick start's agent lines", () => {
  it('says what a P2P viewer did in words, as the agent does', () => {
    expect(formatAgentEvent({ event: 'peer', viewer: '0123456789abcdef', state: 'connected', connectMs: 42 })).toBe(
      'viewer 01234567  connected peer-to-peer in 42 ms',
    );
    expect(formatAgentEvent({ event: 'peer', viewer: '0123456789abcdef', state: 'failed', reason: 'ICE failed' })).toBe(
      'viewer 01234567  P2P failed (ICE failed); this viewer stays on the relay',
    );
    expect(formatAgentEvent({ event: 'viewer', id: '0123456789abcdef', state: 'waiting', address: '127.0.0.1' })).toBe(
      'viewer 01234567 from 127.0.0.1 waits to be let in',
    );
  });

  it('prints nothing for events with nothing to tell a person, never raw JSON', () => {
    expect(formatAgentEvent({ event: 'data', bytes: 'x' })).toBeNull();
    expect(formatAgentEvent({ event: 'resize', columns: 80 })).toBeNull();
    expect(formatAgentEvent({ event: 'closed' })).toBeNull();
  });
});
