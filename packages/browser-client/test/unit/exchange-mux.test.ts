/**
 * Request exchanges between the Service Worker and a shell as ids on one
 * real MessageChannel (Node's global one, the browser's semantics): each
 * exchange gets its own messages in order, what a task posts leaves as one
 * message, a closed exchange drops what comes, and the port may retire once
 * no exchange is open. fetchViaShell runs its whole exchange this way when
 * the shell's target has a port.
 */
import { closeWhenPosted, createExchangeMux, MUX_TYPE, type ExchangePort } from '../../src/shared/exchange-mux';
import { MAX_BATCH_ITEMS } from '../../src/shared/messages';
import { fetchViaShell } from '../../src/sw/shell-fetch';

jest.setTimeout(10_000);

/** Resolves once `done()` holds, checking after each turn of the event loop (messages land in their own tasks); fails after 5 s. */
async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not seen within 5 s`);
    await new Promise((r) => setImmediate(r));
  }
}

/** The SW's mux and the shell's, over one MessageChannel; every raw message the shell side got is counted. */
function pair(onOpen: (port: ExchangePort, first: unknown) => void) {
  const { port1, port2 } = new MessageChannel();
  const raw = { toShell: 0, toSw: 0 };
  const sw = createExchangeMux({ post: (m, t) => port1.postMessage(m, t) });
  const shell = createExchangeMux({ post: (m, t) => port2.postMessage(m, t), onOpen });
  port1.onmessage = (ev: MessageEvent) => {
    raw.toSw++;
    sw.receive(ev.data);
  };
  port2.onmessage = (ev: MessageEvent) => {
    raw.toShell++;
    shell.receive(ev.data);
  };
  const close = () => {
    port1.close();
    port2.close();
  };
  return { sw, shell, raw, close, port1, port2 };
}

describe('request exchanges on one port', () => {
  it('opens each exchange at the other side with its first message and keeps their replies apart', async () => {
    const opened: unknown[] = [];
    const p = pair((port, first) => {
      opened.push(first);
      port.onmessage = (ev) => port.postMessage({ echo: ev.data, of: first });
    });
    const got: unknown[][] = [[], [], []];
    const ports = [0, 1, 2].map((i) => {
      const port = p.sw.open({ req: i });
      port.onmessage = (ev) => got[i]!.push(ev.data);
      return port;
    });
    ports[2]!.postMessage('c1');
    ports[0]!.postMessage('a1');
    ports[0]!.postMessage('a2');
    await until('the replies', () => got[0]!.length === 2 && got[2]!.length === 1);
    expect(opened).toEqual([{ req: 0 }, { req: 1 }, { req: 2 }]);
    expect(got).toEqual([
      [
        { echo: 'a1', of: { req: 0 } },
        { echo: 'a2', of: { req: 0 } },
      ],
      [],
      [{ echo: 'c1', of: { req: 2 } }],
    ]);
    // Three opens and three messages, posted in one task: one message on the port; the replies, one more.
    expect(p.raw).toEqual({ toShell: 1, toSw: 1 });
    p.close();
  });

  it('moves transferred buffers with their exchange', async () => {
    let received: ArrayBuffer | undefined;
    const p = pair((port) => {
      port.onmessage = (ev) => (received = (ev.data as { chunk: ArrayBuffer }).chunk);
    });
    const port = p.sw.open({ req: 'upload' });
    const chunk = new Uint8Array([1, 2, 3]).buffer;
    port.postMessage({ chunk }, [chunk]);
    // Transferred when the task's messages leave together.
    await Promise.resolve();
    expect(chunk.byteLength).toBe(0);
    await until('the chunk', () => received !== undefined);
    expect([...new Uint8Array(received!)]).toEqual([1, 2, 3]);
    p.close();
  });

  it('drops what comes for a closed exchange, and what does not open one', async () => {
    const delivered: unknown[] = [];
    let shellSide: ExchangePort | undefined;
    const p = pair((port) => {
      shellSide = port;
      port.onmessage = (ev) => delivered.push(ev.data);
    });
    const port = p.sw.open({ req: 'x' });
    await until('the exchange opening', () => shellSide !== undefined);
    shellSide!.close();
    port.postMessage('after close');
    // Not mux messages, or malformed ones: ignored, never thrown.
    expect(p.shell.receive({ type: 'wingman:fetch' })).toBe(false);
    expect(p.shell.receive({ type: MUX_TYPE, items: 'no' })).toBe(true);
    expect(p.shell.receive({ type: MUX_TYPE, items: [[-1, 'x', 1], ['1', 'x'], [1.5, 'x'], null] })).toBe(true);
    expect(p.shell.receive({ type: MUX_TYPE, items: new Array(MAX_BATCH_ITEMS + 1).fill([99, 'x', 1]) })).toBe(true);
    // The port keeps order: once an exchange opened after 'after close' is seen, that message has landed too.
    p.sw.open({ req: 'marker' });
    await until('a later exchange', () => p.shell.size === 1);
    shellSide!.close();
    expect(delivered).toEqual([]);
    // An item without the open mark for an unknown id starts nothing.
    expect(p.shell.receive({ type: MUX_TYPE, items: [[7, 'stray']] })).toBe(true);
    expect(p.shell.size).toBe(0);
    p.close();
  });

  it('does not let the shell open exchanges at the SW', async () => {
    const p = pair(() => undefined);
    expect(p.sw.receive({ type: MUX_TYPE, items: [[1, 'x', 1]] })).toBe(true);
    expect(p.sw.size).toBe(0);
    p.close();
  });

  it('calls back once its last open exchange closes', () => {
    const p = pair(() => undefined);
    const a = p.sw.open('a');
    const b = p.sw.open('b');
    let idle = 0;
    p.sw.whenIdle(() => idle++);
    a.close();
    expect(idle).toBe(0);
    b.close();
    expect(idle).toBe(1);
    p.sw.whenIdle(() => idle++);
    expect(idle).toBe(2);
    p.close();
  });

  it('delivers what its last exchange posted before a retired port closes', async () => {
    // The shell's request server posts an exchange's last items a microtask after its
    // end (one message per task) and closes the exchange right after: a port retired
    // while that exchange was open closes once it is gone, and must carry them first.
    const got: unknown[] = [];
    let opened!: (port: ExchangePort) => void;
    const open = new Promise<ExchangePort>((resolve) => (opened = resolve));
    const p = pair((port) => opened(port));
    const sw = p.sw.open('download');
    sw.onmessage = (ev) => got.push(ev.data);
    const exchange = await open;
    p.shell.whenIdle(() => p.port2.close());
    // Node's MessagePort says 'close' once the other end closed, after the messages posted before.
    const closed = new Promise<void>((resolve) => p.port1.addEventListener('close', () => resolve()));
    queueMicrotask(() => exchange.postMessage({ t: 'end' }));
    closeWhenPosted(exchange);
    await closed;
    p.close();
    expect(got).toEqual([{ t: 'end' }]);
  });
});

describe("fetchViaShell on the shell's port", () => {
  it('carries the request and its answer as one exchange of the port', async () => {
    const p = pair((port, first) => {
      expect(first).toMatchObject({ type: 'wingman:fetch', method: 'GET', target: '/a.js', hasBody: false });
      port.postMessage({ t: 'batch', items: [{ t: 'accept' }, { t: 'head', status: 200, headers: [['content-type', 'text/javascript']] }] });
      const chunk = new TextEncoder().encode('export {}').buffer;
      port.postMessage({ t: 'data', chunk }, [chunk]);
      port.postMessage({ t: 'end' });
      port.close();
    });
    const outcome = await fetchViaShell({
      shell: {
        id: 'shell-window',
        post: () => {
          throw new Error('the request went around the port');
        },
        exchange: (first) => p.sw.open(first),
        ownTab: true,
        turn: false,
        shellId: 's1',
      },
      head: { method: 'GET', target: '/a.js', headers: [] },
      body: null,
      signal: new AbortController().signal,
      stillThere: () => Promise.resolve(true),
    });
    if (outcome.kind !== 'response') throw new Error(`expected a response, got ${outcome.kind}`);
    expect(outcome.status).toBe(200);
    expect(new TextDecoder().decode(outcome.whole() ?? new Uint8Array(await new Response(outcome.body).arrayBuffer()))).toBe('export {}');
    p.close();
  });

  it('closes a finished exchange after what its task posted, without a timer', async () => {
    const got: unknown[] = [];
    const p = pair((port) => {
      // What the shell does at a response's end: the last messages go in a microtask (its batch), then the port closes.
      queueMicrotask(() => port.postMessage({ t: 'end' }));
      port.postMessage({ t: 'head' });
      closeWhenPosted(port);
    });
    const port = p.sw.open({ req: 1 });
    port.onmessage = (ev) => got.push(ev.data);
    await until('the end', () => got.length === 2);
    expect(got).toEqual([{ t: 'head' }, { t: 'end' }]);
    expect(p.shell.size).toBe(0);

    // Closed in the task's microtasks: no timer has run in between.
    const p2 = pair(() => undefined);
    const other = p2.shell.open({ req: 2 });
    const timer = new Promise<string>((r) => setTimeout(() => r('timer'), 0));
    closeWhenPosted(other);
    await Promise.resolve();
    await Promise.resolve();
    expect(p2.shell.size).toBe(0);
    expect(await timer).toBe('timer');
    p.close();
    p2.close();
  });
});
