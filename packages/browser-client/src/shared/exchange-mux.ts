/**
 * Many request exchanges over the shell's one MessagePort rather than a MessageChannel each: what all
 * exchanges post within one task leaves as one message `{ type: 'wingman:x', items: [[id, payload, open?]] }`.
 * Items for an id not open are dropped. docs/browser-client.md §Routing rules, "P2P".
 */
import { PORT_RETIRE_MS } from './constants';
import { MAX_BATCH_ITEMS } from './messages';
import { quietly } from './quietly';

/** The part of a MessagePort an exchange uses: a real one (the per-request fallback) or an id on a shared port. */
export interface ExchangePort {
  /** On a shared port, `transfer` is detached when the task's messages leave (a microtask later), not at once. */
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /** Called with each message; only `data` is read (a shared port's exchange gets `{ data }` alone). */
  onmessage: ((ev: MessageEvent) => void) | null;
  close(): void;
}

export type ExchangeMux = ReturnType<typeof createExchangeMux>;

interface ExchangeMuxOptions {
  post(message: MuxMessage, transfer: Transferable[]): void;
  /** The other side opened an exchange with `first`; `port` receives its later messages. */
  onOpen?(port: ExchangePort, first: unknown): void;
}

export const MUX_TYPE = 'wingman:x';
type Item = [id: number, payload: unknown, open?: 1];
interface MuxMessage {
  type: typeof MUX_TYPE;
  items: Item[];
}

/** The largest id (ids are allocated 1, 2, …; a SW lives far shorter than 2^31 requests). */
const MAX_ID = 0x7fffffff;

class MuxPort implements ExchangePort {
  onmessage: ((ev: MessageEvent) => void) | null = null;
  /** Messages that came before `onmessage` was set (a MessagePort queues them too). */
  private queued: unknown[] = [];
  constructor(
    private readonly mux: { send(id: number, payload: unknown, transfer: Transferable[]): void; closed(id: number): void },
    readonly id: number,
  ) {}
  postMessage(message: unknown, transfer: Transferable[] = []): void {
    this.mux.send(this.id, message, transfer);
  }
  close(): void {
    this.onmessage = null;
    this.queued = [];
    this.mux.closed(this.id);
  }
  deliver(data: unknown): void {
    const handler = this.onmessage;
    if (!handler) {
      this.queued.push(data);
      return;
    }
    for (const d of this.queued.splice(0)) handler({ data: d } as MessageEvent);
    handler({ data } as MessageEvent);
  }
}

export function createExchangeMux(options: ExchangeMuxOptions) {
  const ports = new Map<number, MuxPort>();
  let nextId = 1;
  const idle: Array<() => void> = [];
  // It throws when the other side is gone: its exchanges end by their own timeouts and liveness checks, as with a closed port.
  const { queue, flush } = taskBatch<Item>((items, transfer) => quietly(() => options.post({ type: MUX_TYPE, items }, transfer)));
  const core = {
    send(id: number, payload: unknown, transfer: Transferable[]) {
      queue([id, payload], transfer);
    },
    closed(id: number) {
      if (!ports.delete(id) || ports.size > 0) return;
      // What the last exchanges posted leaves before an idle callback may close the port (retirePort).
      flush();
      for (const cb of idle.splice(0)) cb();
    },
  };

  return {
    /** A new exchange, its first message `first` (opens it at the other side). */
    open(first: unknown, transfer: Transferable[] = []): ExchangePort {
      const id = nextId;
      nextId = nextId >= MAX_ID ? 1 : nextId + 1;
      const port = new MuxPort(core, id);
      ports.set(id, port);
      queue([id, first, 1], transfer);
      return port;
    },
    /** Handles one message of the shared port; false when it is not the mux's. */
    receive(data: unknown): boolean {
      const o = data as { type?: unknown; items?: unknown } | null;
      if (typeof o !== 'object' || o === null || o.type !== MUX_TYPE) return false;
      if (!Array.isArray(o.items) || o.items.length > MAX_BATCH_ITEMS) return true;
      for (const raw of o.items as unknown[]) {
        if (!Array.isArray(raw)) continue;
        const [id, payload, open] = raw as [unknown, unknown, unknown];
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_ID) continue;
        let port = ports.get(id);
        if (open === 1) {
          if (port || !options.onOpen) continue;
          port = new MuxPort(core, id);
          ports.set(id, port);
          options.onOpen(port, payload);
          continue;
        }
        port?.deliver(payload);
      }
      return true;
    },
    /** Exchanges open at this end. */
    get size(): number {
      return ports.size;
    },
    /** Called once `size` is 0 (now, if it is): the port may then be retired. */
    whenIdle(callback: () => void): void {
      if (ports.size === 0) {
        flush();
        callback();
      } else idle.push(callback);
    },
  };
}

/** Gathers what is posted within one task (at most MAX_BATCH_ITEMS) and hands it to `send` as one message, a microtask later. */
export function taskBatch<T>(send: (items: T[], transfer: Transferable[]) => void): { queue(item: T, transfer?: Transferable[]): void; flush(): void } {
  const items: T[] = [];
  const transfers: Transferable[] = [];
  const flush = () => {
    if (items.length > 0) send(items.splice(0), transfers.splice(0));
  };
  const queue = (item: T, transfer: Transferable[] = []) => {
    if (items.length === 0) queueMicrotask(flush);
    items.push(item);
    if (transfer.length > 0) transfers.push(...transfer);
    // A microtask is already queued; it finds an empty batch and posts nothing.
    if (items.length >= MAX_BATCH_ITEMS) flush();
  };
  return { queue, flush };
}

/**
 * Closes an exchange's port once what this task posted on it has left: an id
 * on a shared port in a microtask, after the task's batch; a port of its own
 * a task later (a timer per exchange was a task each on the shell's thread).
 */
export function closeWhenPosted(port: ExchangePort): void {
  if (port instanceof MuxPort) queueMicrotask(() => port.close());
  else setTimeout(() => port.close(), 0);
}

/** Closes a replaced shared port once PORT_RETIRE_MS have passed and none of `mux`'s exchanges is open (a download may last minutes). */
export function retirePort(port: MessagePort, mux: ExchangeMux | undefined): void {
  setTimeout(() => {
    if (mux) mux.whenIdle(() => port.close());
    else port.close();
  }, PORT_RETIRE_MS);
}
