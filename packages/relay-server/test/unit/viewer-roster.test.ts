/** The agent's list of viewers as the server announces them: forgotten waiting viewers leave it, and waiting ones are listed fairly across addresses. */
import { EventEmitter } from 'node:events';
import type { ServerToAgent, ViewerState } from '@wingman/protocol';
import type { Agent } from '../../src/agent';
import { attachViewerRoster } from '../../src/viewers/viewer-roster';

const id = (c: string) => c.repeat(32);
const announce = (agent: EventEmitter, c: string, address: string, firstSeenAt: number, state: ViewerState = 'waiting') =>
  agent.emit('control', { type: 'viewer', id: id(c), state, address, userAgent: 'UA', firstSeenAt } satisfies ServerToAgent);

describe('attachViewerRoster', () => {
  it("lists each address's longest waiting viewer before any address's second, and drops a viewer the server forgot", () => {
    const agent = new EventEmitter();
    const roster = attachViewerRoster(agent as unknown as Agent, () => undefined);
    const gone: string[] = [];
    roster.on('gone', (v) => gone.push(v));
    announce(agent, 'a', '10.0.0.1', 1);
    announce(agent, 'b', '10.0.0.1', 2);
    announce(agent, 'c', '10.0.0.1', 3);
    announce(agent, 'd', '10.0.0.2', 4, 'admitted');
    announce(agent, 'e', '192.0.2.7', 5);
    announce(agent, 'f', '10.0.0.9', 6);
    expect(roster.waiting().map((v) => v.id[0])).toEqual(['a', 'e', 'f', 'b', 'c']);

    agent.emit('control', { type: 'viewer-gone', id: id('a') } satisfies ServerToAgent);
    expect(gone).toEqual([id('a')]);
    expect(roster.get(id('a'))).toBeUndefined();
    expect(roster.waiting().map((v) => v.id[0])).toEqual(['b', 'e', 'f', 'c']);
    // An id it does not know changes nothing.
    agent.emit('control', { type: 'viewer-gone', id: id('0') } satisfies ServerToAgent);
    expect(gone).toHaveLength(1);
  });
});
