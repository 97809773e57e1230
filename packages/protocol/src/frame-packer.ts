/**
 * The send side of a connection: control frames waiting to go, the streams
 * with frames queued (one round-robin order per priority class), and the
 * packing of both into transport messages of at most `maxMessageBytes`.
 * docs/PROTOCOL.md §Scheduling.
 */
import { FRAME_HEADER_BYTES, MAX_PAYLOAD_BYTES } from './constants';
import { FrameType, writeFrame } from './frame';
import { PRIORITY_CLASSES, priorityRank } from './priority';
import type { Stream } from './stream';

/** A message at least this fraction of its build buffer is sent as a view of it (no copy); smaller ones are copied out. */
const HANDOFF_FRACTION = 2;

function isOpening(type: FrameType): boolean {
  return type === FrameType.REQUEST || type === FrameType.WS_OPEN;
}

export class FramePacker {
  /** Encoded control frames (HELLO, PING, PONG, RESET, WINDOW_UPDATE), sent before any stream frame. */
  readonly control: Uint8Array[] = [];
  /** Streams with frames queued, one round-robin order per priority class (index: rank, most urgent first). */
  private readonly ready: Array<Set<Stream>> = PRIORITY_CLASSES.map(() => new Set<Stream>());
  /** Streams of this side whose opening frame (REQUEST / WS_OPEN) waits, in id order: the order the peer requires. */
  private readonly openings: Stream[] = [];
  /** Streams that contributed frames to the message being built. */
  private readonly touched = new Set<Stream>();
  private scratch: Uint8Array | undefined;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly allocate: (bytes: number) => Uint8Array,
  ) {}

  /** Queues an encoded control frame. */
  pushControl(type: FrameType, streamId: number, payload: Uint8Array, flags: number): void {
    const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
    writeFrame(frame, 0, type, flags, streamId, payload);
    this.control.push(frame);
  }

  /**
   * Puts a stream with frames queued in its class's rotation (kept in place
   * when already there; moved to the back of its new class's when its class
   * changed).
   */
  addReady(stream: Stream): void {
    const rank = priorityRank(stream.priority);
    if (this.ready[rank]!.has(stream)) return;
    for (const set of this.ready) set.delete(stream);
    this.ready[rank]!.add(stream);
    const next = stream.nextQueued;
    if (next !== undefined && isOpening(next.type) && !this.openings.includes(stream)) this.openings.push(stream);
  }

  removeStream(stream: Stream): void {
    for (const set of this.ready) set.delete(stream);
    const i = this.openings.indexOf(stream);
    if (i >= 0) this.openings.splice(i, 1);
  }

  /** Forgets everything queued (the connection is over). */
  clear(): void {
    for (const set of this.ready) set.clear();
    this.openings.length = 0;
    this.control.length = 0;
  }

  /** Takes the HELLO if it is still waiting (it must precede anything sent directly). */
  takeUnsentHello(): Uint8Array | undefined {
    const first = this.control[0];
    return first !== undefined && first[0] === FrameType.HELLO ? this.control.shift() : undefined;
  }

  /** The frames of the message last built were handed to the transport: let their streams emit 'drain' or finish. */
  sent(): void {
    for (const stream of this.touched) stream.afterSend();
    this.touched.clear();
  }

  /** The message last built could not be sent. */
  sendFailed(): void {
    this.touched.clear();
  }

  /**
   * Packs control frames first, then (once `streamsMayFlow`, i.e. after the
   * peer's HELLO) the opening frames of new streams in id order, then stream
   * frames by priority class: the most urgent class with a frame that can go
   * fills the message first, one frame per ready stream of the class in turn,
   * and a less urgent class gets only the space left. Up to maxMessageBytes.
   * Undefined when nothing can go.
   */
  buildMessage(streamsMayFlow: boolean): Uint8Array | undefined {
    // Built in a buffer reused across messages. A large message (bulk data)
    // leaves as a view of it and the next one gets a fresh buffer: one copy of
    // each payload byte, not two. A small one (control frames, heads) is
    // copied out at its size, as transports keep what they are given.
    const out = (this.scratch ??= this.allocate(this.maxMessageBytes));
    let offset = 0;
    while (this.control.length > 0 && offset + this.control[0]!.length <= out.length) {
      const f = this.control.shift()!;
      out.set(f, offset);
      offset += f.length;
    }
    if (streamsMayFlow) {
      offset = this.packOpenings(out, offset);
      // Strict priority across classes (a bulk download waits while a page's
      // document or scripts can send), round-robin within one (two downloads
      // of the same class share the connection).
      for (const ready of this.ready) {
        if (out.length - offset <= FRAME_HEADER_BYTES) break;
        offset = this.packRoundRobin(ready, out, offset);
      }
    }
    if (offset === 0) return undefined;
    if (offset * HANDOFF_FRACTION >= out.length) {
      this.scratch = undefined;
      return out.subarray(0, offset);
    }
    const message = new Uint8Array(offset);
    message.set(out.subarray(0, offset));
    return message;
  }

  /**
   * The opening frames waiting, in id order whatever their streams' classes:
   * the peer requires new stream ids in increasing order, so once one does
   * not fit, the later ones wait for the next message too. A head is small;
   * the bodies behind it keep their class.
   */
  private packOpenings(out: Uint8Array, offset: number): number {
    while (this.openings.length > 0) {
      const stream = this.openings[0]!;
      const item = stream.nextQueued;
      if (stream.closed || item === undefined || !isOpening(item.type)) {
        this.openings.shift();
        continue;
      }
      if (FRAME_HEADER_BYTES + item.payload.length > out.length - offset) break;
      offset = stream.writeNextFrame(out, offset, item.payload.length);
      this.openings.shift();
      this.touched.add(stream);
      if (stream.nextQueued === undefined || stream.closed) this.removeStream(stream);
    }
    return offset;
  }

  /** Round-robin over one class: each pass gives every ready stream of it one frame, and a stream that sent moves to the back. */
  private packRoundRobin(ready: Set<Stream>, out: Uint8Array, offset: number): number {
    let progressed = true;
    while (progressed && out.length - offset > FRAME_HEADER_BYTES) {
      progressed = false;
      for (const stream of [...ready]) {
        const space = out.length - offset - FRAME_HEADER_BYTES;
        if (space <= 0) break;
        const next = this.takeFrame(stream, ready, space, out, offset);
        if (next === offset) continue;
        offset = next;
        progressed = true;
        ready.delete(stream);
        if (stream.nextQueued !== undefined && !stream.closed) ready.add(stream);
        this.touched.add(stream);
      }
    }
    return offset;
  }

  /** Writes at most one frame of `stream` into `out`; returns the new offset (unchanged when nothing could go). */
  private takeFrame(stream: Stream, ready: Set<Stream>, space: number, out: Uint8Array, offset: number): number {
    const item = stream.nextQueued;
    if (!item) {
      ready.delete(stream);
      return offset;
    }
    if (!item.flow) {
      // An opening frame goes only through packOpenings (id order).
      if (isOpening(item.type) || item.payload.length > space) return offset;
      return stream.writeNextFrame(out, offset, item.payload.length);
    }
    const n = Math.min(item.payload.length, space, stream.sendWindow, MAX_PAYLOAD_BYTES);
    // An empty WebSocket message costs no window and goes as one empty frame.
    if (n <= 0 && item.payload.length > 0) {
      if (stream.sendWindow <= 0) ready.delete(stream); // re-added by WINDOW_UPDATE
      return offset;
    }
    return stream.writeNextFrame(out, offset, n);
  }
}
