/**
 * The agent's own time for an exchange (forward/agent-time.ts): stated over
 * P2P to a Service Worker that asked, never otherwise, and the asking field
 * never reaches the app.
 */
import { AGENT_TIME_HEADER, type HeaderList } from '@wingman/protocol';
import { withAgentTime } from '../../src/forward/agent-time';
import { forwardedRequest } from '../../src/forward/headers';

const APP: HeaderList = [
  ['content-type', 'text/html'],
  [AGENT_TIME_HEADER, 'from the app'],
];
const ASKED: HeaderList = [
  ['host', 'app.localhost'],
  [AGENT_TIME_HEADER, '?1'],
];

describe("the agent's time on a response head", () => {
  it('is the whole ms since the request came in, over P2P when asked, replacing any of the app', () => {
    expect(withAgentTime(APP, ASKED, 'p2p', 1000, 1062.6)).toEqual([
      ['content-type', 'text/html'],
      [AGENT_TIME_HEADER, '63'],
    ]);
  });

  it('is not stated over the relay or when not asked', () => {
    expect(withAgentTime(APP, ASKED, 'relay', 1000, 1062)).toBe(APP);
    expect(withAgentTime(APP, [['host', 'app.localhost']], 'p2p', 1000, 1062)).toBe(APP);
  });

  it("asking for it is the agent's business, not the app's", () => {
    const sent = forwardedRequest(ASKED, { transport: 'p2p', target: { host: '127.0.0.1', port: 3000 }, hostHeader: 'rewrite' }).headers;
    expect(sent.filter(([n]) => n === AGENT_TIME_HEADER)).toEqual([]);
  });
});
