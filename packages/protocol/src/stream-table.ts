/** The streams of one connection: ids (odd for the client, even for the server, increasing), limits, the peer's ids checked. */
import { ProtocolError, protocolError } from './errors';
import { FrameType, type Frame } from './frame';
import { decodeRequestHead, encodeRequestHead, encodeReset, type RequestHead } from './payload';
import { Stream, type StreamHost, type StreamKind } from './stream';

/** 2^32 - 2 keeps `id + 2` within 32 bits. */
const LAST_STREAM_ID = 0xfffffffe;

export class StreamTable {
  private readonly streams = new Map<number, Stream>();
  private nextLocalId: number;
  private lastPeerId = 0;
  private peerOpened = 0;
  private localOpened = 0;

  constructor(
    private readonly host: StreamHost,
    role: 'client' | 'server',
    private readonly maxConcurrentStreams: number,
  ) {
    this.nextLocalId = role === 'client' ? 1 : 2;
  }

  get size(): number {
    return this.streams.size;
  }

  values(): IterableIterator<Stream> {
    return this.streams.values();
  }

  /** Throws ERR_TOO_MANY_STREAMS, ERR_INVALID_HEAD, or ERR_GOING_AWAY when ids are exhausted; nothing is queued then. */
  openLocal(kind: StreamKind, head: RequestHead, end: boolean, peerLimit: number, peerWindow: number): Stream {
    if (this.localOpened >= peerLimit) throw protocolError('ERR_TOO_MANY_STREAMS', `peer accepts ${peerLimit} open streams`);
    if (kind === 'ws' && head.method !== 'GET') throw protocolError('ERR_INVALID_HEAD', 'a WebSocket opens with GET');
    const payload = encodeRequestHead(head);
    if (this.nextLocalId > LAST_STREAM_ID) throw protocolError('ERR_GOING_AWAY', 'stream ids exhausted');
    const id = this.nextLocalId;
    this.nextLocalId += 2;
    const stream = new Stream(this.host, id, kind, head, true, peerWindow);
    this.streams.set(id, stream);
    this.localOpened++;
    stream.queueOpen(kind === 'ws' ? FrameType.WS_OPEN : FrameType.REQUEST, payload, kind === 'http' && end);
    return stream;
  }

  /** Throws ERR_INVALID_STREAM_ID for a wrong or reused id; resets the stream over the limit or for a bad head. */
  acceptPeer(frame: Frame, peerWindow: number): Stream | undefined {
    const id = frame.streamId;
    const peerParity = this.nextLocalId % 2 === 1 ? 0 : 1;
    if (id % 2 !== peerParity || id <= this.lastPeerId) {
      throw protocolError('ERR_INVALID_STREAM_ID', `peer opened stream ${id} (last ${this.lastPeerId}, wrong parity or reused)`);
    }
    this.lastPeerId = id;
    const kind: StreamKind = frame.type === FrameType.WS_OPEN ? 'ws' : 'http';
    if (this.peerOpened >= this.maxConcurrentStreams) {
      this.host.sendControl(FrameType.RESET, id, encodeReset('ERR_TOO_MANY_STREAMS', `at most ${this.maxConcurrentStreams} open streams`));
      return undefined;
    }
    let head: RequestHead;
    try {
      head = decodeRequestHead(frame.payload);
      if (kind === 'ws' && head.method !== 'GET') throw protocolError('ERR_INVALID_HEAD', 'a WebSocket opens with GET');
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.host.sendControl(FrameType.RESET, id, encodeReset(err.code, err.message));
      return undefined;
    }
    const stream = new Stream(this.host, id, kind, head, false, peerWindow);
    this.streams.set(id, stream);
    this.peerOpened++;
    return stream;
  }

  /** Undefined for a closed stream (frames cross in flight, RFC 9113 §5.1); throws ERR_INVALID_STREAM_ID for one never opened. */
  lookup(frame: Frame): Stream | undefined {
    const stream = this.streams.get(frame.streamId);
    if (stream) return stream;
    const id = frame.streamId;
    const ours = id % 2 === this.nextLocalId % 2;
    const known = ours ? id < this.nextLocalId : id <= this.lastPeerId;
    if (known) return undefined;
    throw protocolError('ERR_INVALID_STREAM_ID', `frame type 0x${frame.type.toString(16)} for idle stream ${id}`);
  }

  /** False when it was already forgotten. */
  forget(stream: Stream): boolean {
    if (this.streams.get(stream.id) !== stream) return false;
    this.streams.delete(stream.id);
    if (stream.local) this.localOpened--;
    else this.peerOpened--;
    return true;
  }

  clear(): void {
    this.streams.clear();
  }
}
