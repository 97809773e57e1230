/** The terminal view's viewer keys, with a fake TTY stdin and a roster that records decisions. */
import { EventEmitter } from 'node:events';
import { attachViewerKeys, type KeyInput } from '../../src/cli/terminal-keys';
import type { ViewerEntry, ViewerRoster } from '../../src/viewers/viewer-roster';

function fakeInput(isTTY: boolean): KeyInput & { raw: boolean[]; type(keys: string): void } {
  const e = new EventEmitter();
  const raw: boolean[] = [];
  return {
    isTTY,
    raw,
    setRawMode: (on: boolean) => raw.push(on),
    on: (event, fn) => e.on(event, fn),
    off: (event, fn) => e.off(event, fn),
    resume: () => undefined,
    pause: () => undefined,
    type: (keys: string) => void e.emit('data', Buffer.from(keys)),
  };
}

const viewer = (id: string, state: ViewerEntry['state'], firstSeenAt: number): ViewerEntry => ({
  id: id.repeat(32).slice(0, 32),
  state,
  address: '10.0.0.1',
  userAgent: 'UA',
  firstSeenAt,
});

function fakeRoster(list: ViewerEntry[]): { roster: ViewerRoster; decisions: string[] } {
  const decisions: string[] = [];
  const roster = Object.assign(new EventEmitter(), {
    mode: 'approve' as const,
    list: () => list,
    get: (id: string) => list.find((v) => v.id === id),
    waiting: () => list.filter((v) => v.state === 'waiting'),
    newestAdmitted: () => [...list].reverse().find((v) => v.state === 'admitted'),
    decide: (d: string, id: string) => (decisions.push(`${d} ${id.slice(0, 1)}`), true),
    refuseAll: () => (decisions.push('refuse-all'), true),
  }) as unknown as ViewerRoster;
  return { roster, decisions };
}

describe('attachViewerKeys', () => {
  it('admits (a) and refuses (d) the first waiting viewer, revokes the newest admitted (r) and all (R), and turns Ctrl+C into an interrupt', () => {
    const input = fakeInput(true);
    const { roster, decisions } = fakeRoster([viewer('a', 'admitted', 1), viewer('b', 'waiting', 2), viewer('c', 'admitted', 3), viewer('d', 'waiting', 4)]);
    const said: string[] = [];
    let interrupted = 0;
    const detach = attachViewerKeys(
      input,
      roster,
      (m) => said.push(m),
      () => interrupted++,
    );
    input.type('adrRx');
    expect(decisions).toEqual(['admit b', 'refuse b', 'refuse c', 'refuse-all']);
    expect(said[0]).toBe(`admitting viewer ${'b'.repeat(8)} (10.0.0.1)`);
    input.type('\x03');
    expect(interrupted).toBe(1);
    detach();
    input.type('a');
    expect(decisions).toHaveLength(4);
    expect(input.raw).toEqual([true, false]);
  });

  it('acts on the waiting viewer selected by its number (1-9) until it no longer waits', () => {
    const input = fakeInput(true);
    const list = [viewer('b', 'waiting', 2), viewer('d', 'waiting', 4), viewer('e', 'waiting', 5)];
    const { roster, decisions } = fakeRoster(list);
    const said: string[] = [];
    const selected: string[] = [];
    attachViewerKeys(
      input,
      roster,
      (m) => said.push(m),
      () => undefined,
      (id) => selected.push(id.slice(0, 1)),
    );
    input.type('2a');
    expect(decisions).toEqual(['admit d']);
    expect(selected).toEqual(['d']);
    expect(said[0]).toBe(`selected waiting viewer 2: ${'d'.repeat(8)} (10.0.0.1)`);
    input.type('d');
    expect(decisions).toEqual(['admit d', 'refuse d']);
    // Once the selected viewer no longer waits, the first waiting one is selected again.
    list[1]!.state = 'admitted';
    input.type('a7');
    expect(decisions).toEqual(['admit d', 'refuse d', 'admit b']);
    expect(said.at(-1)).toBe('no waiting viewer 7');
  });

  it('says so when no viewer waits, and leaves a stdin that is not a TTY alone', () => {
    const said: string[] = [];
    const tty = fakeInput(true);
    attachViewerKeys(
      tty,
      fakeRoster([]).roster,
      (m) => said.push(m),
      () => undefined,
    );
    tty.type('ar');
    expect(said).toEqual(['no viewer is waiting', 'no admitted viewer to revoke']);
    const pipe = fakeInput(false);
    attachViewerKeys(
      pipe,
      fakeRoster([]).roster,
      (m) => said.push(m),
      () => undefined,
    );
    expect(pipe.raw).toEqual([]);
  });
});
