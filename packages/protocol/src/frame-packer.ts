/** The send side of a connection: control frames first, then one frame per ready stream in turn. docs/PROTOCOL.md §Scheduling. */
import { FRAME_HEADER_BYTES, MAX_PAYLOAD_BYTES } from './constants';
import { encodeFrame, FrameType } from './frame';
import type { Stream } from './stream';

/** A message filling 1/2 of its build buffer is sent as a view of it; smaller ones are copied out. */
const HANDOFF_FRACTION = 2;

export class FramePacker {
  readonly control: Uint8Array[] = [];
  /** In round-robin order. */
  private readonly ready = new Set<Stream>();
  /** Streams with frames in the message being built. */
  private readonly touched = new Set<Stream>();
  /** Within one message being built: an opening frame did not fit, so later (higher) ids must wait too. */
  private opensBlocked = false;
  private scratch: Uint8Array | undefined;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly allocate: (bytes: number) => Uint8Array,
  ) {}

  pushControl(type: FrameType, streamId: number, payload: Uint8Array, flags: number): void {
    this.control.push(encodeFrame(type, flags, streamId, payload));
  }

  /** Kept in place when already there. */
  addReady(stream: Stream): void {
    this.ready.add(stream);
  }

  removeStream(stream: Stream): void {
    this.ready.delete(stream);
  }

  clear(): void {
    this.ready.clear();
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

  sendFailed(): void {
    this.touched.clear();
  }

  /** `streamsMayFlow`: after the peer's HELLO. Undefined when nothing can go. */
  buildMessage(streamsMayFlow: boolean): Uint8Array | undefined {
    // A large message leaves as a view of the buffer (one copy of each byte, not two); a small one is
    // copied out at its size, as transports keep what they are given.
    const out = (this.scratch ??= this.allocate(this.maxMessageBytes));
    let offset = 0;
    this.opensBlocked = false;
    while (this.control.length > 0 && offset + this.control[0]!.length <= out.length) {
      const f = this.control.shift()!;
      out.set(f, offset);
      offset += f.length;
    }
    if (streamsMayFlow) {
      // Each pass gives every ready stream one frame: a bulk download cannot starve a small request.
      let progressed = true;
      while (progressed && out.length - offset > FRAME_HEADER_BYTES) {
        progressed = false;
        for (const stream of [...this.ready]) {
          const space = out.length - offset - FRAME_HEADER_BYTES;
          if (space <= 0) break;
          const next = this.takeFrame(stream, space, out, offset);
          if (next === offset) continue;
          offset = next;
          progressed = true;
          this.ready.delete(stream);
          if (stream.nextQueued !== undefined && !stream.closed) this.ready.add(stream);
          this.touched.add(stream);
        }
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

  /** Writes at most one frame of `stream` into `out`; returns the new offset (unchanged when nothing could go). */
  private takeFrame(stream: Stream, space: number, out: Uint8Array, offset: number): number {
    const item = stream.nextQueued;
    if (!item) {
      this.ready.delete(stream);
      return offset;
    }
    if (!item.flow) {
      const opening = item.type === FrameType.REQUEST || item.type === FrameType.WS_OPEN;
      // New stream ids must arrive in increasing order: once an opening waits, later ones do too.
      if (opening && this.opensBlocked) return offset;
      if (item.payload.length > space) {
        if (opening) this.opensBlocked = true;
        return offset;
      }
      return stream.writeNextFrame(out, offset, item.payload.length);
    }
    const n = Math.min(item.payload.length, space, stream.sendWindow, MAX_PAYLOAD_BYTES);
    // An empty WebSocket message costs no window and goes as one empty frame.
    if (n <= 0 && item.payload.length > 0) {
      if (stream.sendWindow <= 0) this.ready.delete(stream); // re-added by WINDOW_UPDATE
      return offset;
    }
    return stream.writeNextFrame(out, offset, n);
  }
}
