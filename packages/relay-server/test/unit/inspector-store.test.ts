/**
 * The inspector's pieces that need no network: the body tap (what it keeps
 * of a body arriving in chunks) and the ring of entries (eviction, ids,
 * filters).
 */
import { createBufferBudget } from '@wingman/protocol';
import { createBodyTap, type Capture } from '../../src/forward';
import { agentUnderLoad } from '../../src/forward/buffer-budget';
import { createExchangeTap } from '../../src/forward/capture';
import { createRequestStore } from '../../src/inspector/store';

function capture(over: Partial<Capture> = {}): Capture {
  const empty = { data: Buffer.alloc(0), size: 0, truncated: false };
  return {
    method: 'GET',
    target: '/',
    transport: 'relay',
    startedAt: 0,
    durationMs: 1,
    status: 200,
    requestHeaders: [],
    responseHeaders: [],
    requestBody: empty,
    responseBody: empty,
    ...over,
  };
}

describe('body tap', () => {
  it('keeps the first bytes up to the cap across chunk boundaries and counts the rest', () => {
    const tap = createBodyTap(5);
    tap.push(new Uint8Array([1, 2, 3]));
    tap.push(new Uint8Array([4, 5, 6, 7]));
    tap.push(new Uint8Array([8]));
    expect(tap.result()).toEqual({ data: Buffer.from([1, 2, 3, 4, 5]), size: 8, truncated: true });
  });

  it('copies what it keeps, so a reused transport buffer does not change the capture', () => {
    const tap = createBodyTap(10);
    const chunk = new Uint8Array([1, 2]);
    tap.push(chunk);
    chunk[0] = 9;
    expect(tap.result()).toEqual({ data: Buffer.from([1, 2]), size: 2, truncated: false });
  });

  it('with a cap of 0 keeps nothing but still counts', () => {
    const tap = createBodyTap(0);
    tap.push(new Uint8Array(3));
    expect(tap.result()).toEqual({ data: Buffer.alloc(0), size: 3, truncated: true });
  });

  it('keeps nothing while the agent is under load, drops what it had kept, and says why', () => {
    let load = false;
    const tap = createBodyTap(10, () => load);
    tap.push(new Uint8Array([1, 2, 3]));
    load = true;
    tap.push(new Uint8Array([4, 5]));
    load = false;
    tap.push(new Uint8Array([6]));
    expect(tap.result()).toEqual({ data: Buffer.alloc(0), size: 6, truncated: true, underLoad: true });
  });

  it('gives the bytes it dropped under load back to the in-flight budget at once', () => {
    const MiB = 1024 * 1024;
    let load = false;
    // Fills the 8 MiB every body in flight shares.
    const first = createBodyTap(16 * MiB, () => load);
    first.push(new Uint8Array(8 * MiB));
    const starved = createBodyTap(10);
    starved.push(new Uint8Array(4));
    expect(starved.result()).toMatchObject({ size: 4, truncated: true });
    load = true;
    first.push(new Uint8Array(1));
    // Still in flight, but it keeps nothing now: another body may keep its bytes.
    const next = createBodyTap(10);
    next.push(new Uint8Array([7, 8]));
    expect(next.result()).toEqual({ data: Buffer.from([7, 8]), size: 2, truncated: false });
    expect(first.result()).toMatchObject({ size: 8 * MiB + 1, underLoad: true });
  });
});

describe('exchange tap', () => {
  /** An exchange through a tap with a 10-byte cap: its capture once it ended with `error`. */
  function exchange(error?: string): Capture {
    let captured: Capture | undefined;
    const tap = createExchangeTap({ method: 'POST', target: '/x', headers: [] }, 'relay', undefined, {
      bodyLimitBytes: 10,
      onCapture: (c) => (captured = c),
    });
    tap.requestChunk(new Uint8Array([1, 2]));
    tap.responseHead(200, [['content-type', 'text/plain']]);
    tap.responseChunk(new Uint8Array([3, 4, 5]));
    tap.finish(error);
    return captured!;
  }

  it('keeps the bodies of an exchange that failed otherwise', () => {
    const c = exchange('ERR_CANCEL');
    expect(c.requestBody).toEqual({ data: Buffer.from([1, 2]), size: 2, truncated: false });
    expect(c.responseBody).toEqual({ data: Buffer.from([3, 4, 5]), size: 3, truncated: false });
  });

  it('keeps only the heads of an exchange a buffer budget refused (ERR_OVERLOADED), its bodies shown as not kept under load', () => {
    const c = exchange('ERR_OVERLOADED');
    expect(c).toMatchObject({ status: 200, error: 'ERR_OVERLOADED', responseHeaders: [['content-type', 'text/plain']] });
    expect(c.requestBody).toEqual({ data: Buffer.alloc(0), size: 2, truncated: true, underLoad: true });
    expect(c.responseBody).toEqual({ data: Buffer.alloc(0), size: 3, truncated: true, underLoad: true });
  });
});

describe('agent under load', () => {
  it('is when the buffer budget is more than half spent', () => {
    const budget = createBufferBudget(100);
    const hold = budget.hold(() => undefined);
    hold.set(50);
    expect(agentUnderLoad(budget)).toBe(false);
    hold.set(51);
    expect(agentUnderLoad(budget)).toBe(true);
    hold.release();
    expect(agentUnderLoad(budget)).toBe(false);
  });
});

describe('request store', () => {
  it('keeps the newest entries up to its capacity, with ids that never repeat', () => {
    const store = createRequestStore(3);
    for (let i = 0; i < 5; i++) store.add(capture({ target: `/${i}` }));
    expect(store.list().map((e) => e.id)).toEqual([3, 4, 5]);
    expect(store.get(2)).toBeUndefined();
    store.clear();
    expect(store.list()).toEqual([]);
    expect(store.add(capture()).id).toBe(6);
  });

  it('keeps exactly the newest entries and their byte count through many evictions', () => {
    const store = createRequestStore(4, 1000);
    const body = (n: number) => ({ data: Buffer.alloc(n), size: n, truncated: false });
    for (let i = 1; i <= 23; i++) {
      store.add(capture({ target: `/${i}`, responseBody: body(100) }));
      const ids = store.list().map((e) => e.id);
      expect(ids).toEqual(Array.from({ length: Math.min(i, 4) }, (_, k) => Math.max(i, 4) - 3 + k));
      expect(store.get(i)?.target).toBe(`/${i}`);
    }
    // 300-byte bodies replace the 100-byte ones; four of them (1200 bytes) pass the 1000-byte budget.
    for (let i = 0; i < 3; i++) store.add(capture({ responseBody: body(300) }));
    expect(store.list().map((e) => e.id)).toEqual([23, 24, 25, 26]);
    store.add(capture({ responseBody: body(300) }));
    expect(store.list().map((e) => e.id)).toEqual([25, 26, 27]);
  });

  it('drops the oldest entries when their bodies pass the byte budget', () => {
    const store = createRequestStore(100, 10);
    const body = (n: number) => ({ data: Buffer.alloc(n), size: n, truncated: false });
    store.add(capture({ requestBody: body(4) }));
    store.add(capture({ responseBody: body(4) }));
    expect(store.list().map((e) => e.id)).toEqual([1, 2]);
    store.add(capture({ requestBody: body(3) }));
    expect(store.list().map((e) => e.id)).toEqual([2, 3]);
    // One entry over the budget on its own is kept (the newest always is).
    store.add(capture({ responseBody: body(20) }));
    expect(store.list().map((e) => e.id)).toEqual([4]);
  });

  it('filters by status class, method, transport, path and header', () => {
    const store = createRequestStore();
    store.add(capture({ target: '/a', status: 404, requestHeaders: [['x-k', 'Alpha']] }));
    store.add(capture({ target: '/b', method: 'POST', transport: 'p2p', status: 201 }));
    store.add(capture({ target: '/ab', status: 500 }), { transport: 'replay', replayOf: 1 });
    const paths = (f: Parameters<typeof store.list>[0]) => store.list(f).map((e) => e.target);
    expect(paths({ status: '4xx' })).toEqual(['/a']);
    expect(paths({ status: '5XX' })).toEqual(['/ab']);
    expect(paths({ method: 'post' })).toEqual(['/b']);
    expect(paths({ transport: 'replay' })).toEqual(['/ab']);
    expect(paths({ path: 'a' })).toEqual(['/a', '/ab']);
    expect(paths({ header: 'x-k: alp' })).toEqual(['/a']);
    expect(paths({ header: 'x-k' })).toEqual(['/a']);
    expect(paths({ header: 'x-k:beta' })).toEqual([]);
  });

  it('shows a recorded capture as an entry once read, the same entry every time, and tells subscribers', () => {
    const store = createRequestStore(2);
    const added: number[] = [];
    store.record(capture({ target: '/a' }));
    store.subscribe((e) => e.type === 'added' && added.push(e.entry.id));
    store.record(capture({ target: '/b' }), { tunnel: 'web' });
    store.record(capture({ target: '/c', status: 404 }));
    expect(store.list().map((e) => [e.id, e.target, e.tunnel])).toEqual([
      [2, '/b', 'web'],
      [3, '/c', undefined],
    ]);
    expect(store.get(3)).toBe(store.list({ status: '404' })[0]);
    expect(store.get(1)).toBeUndefined();
    expect(added).toEqual([2, 3]);
  });

  it('tells subscribers about every add and clear, and survives a throwing one', () => {
    const store = createRequestStore();
    const seen: string[] = [];
    store.subscribe(() => {
      throw new Error('gone');
    });
    const off = store.subscribe((e) => seen.push(e.type === 'added' ? `added ${e.entry.id}` : 'cleared'));
    store.add(capture());
    store.clear();
    off();
    store.add(capture());
    expect(seen).toEqual(['added 1', 'cleared']);
  });
});
