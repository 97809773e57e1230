/**
 * The agent's time on a P2P response head (agent-time.ts): taken off the head
 * whatever it says, and only a whole number of ms within bounds counts.
 */
import { AGENT_TIME_HEADER, AGENT_TIME_MAX_MS } from '@wingman/protocol';
import { takeAgentTime } from '../../src/sw/agent-time';

describe("the agent's time on a response head", () => {
  it('is taken off the head and returned', () => {
    const headers: Array<[string, string]> = [
      ['content-type', 'text/javascript'],
      [AGENT_TIME_HEADER, '63'],
      ['etag', '"a"'],
    ];
    expect(takeAgentTime(headers)).toBe(63);
    expect(headers).toEqual([
      ['content-type', 'text/javascript'],
      ['etag', '"a"'],
    ]);
  });

  it('counts as 0 when absent or malformed, and a malformed field is still taken off', () => {
    expect(takeAgentTime([['content-type', 'text/plain']])).toBe(0);
    for (const bad of ['-5', '1.5', 'soon', '', String(AGENT_TIME_MAX_MS + 1), '99999999']) {
      const headers: Array<[string, string]> = [[AGENT_TIME_HEADER, bad]];
      expect([bad, takeAgentTime(headers), headers]).toEqual([bad, 0, []]);
    }
  });
});
