/**
 * Routes a frame of an open stream to it, after the per-type checks of
 * docs/PROTOCOL.md §Streams. A violation confined to the stream resets that
 * stream (stream.violate); only an unknown frame type throws, which fails the
 * whole connection.
 */
import { ProtocolError, protocolError } from './errors';
import { Flag, FrameType, type Frame } from './frame';
import { decodeCodeReason, decodeReset, decodeResponseHead, decodeWindowUpdate } from './payload';
import type { Stream } from './stream';
import { messageTooBigReason } from './ws-limit';

/** Decodes a stream frame's payload; a malformed one resets the stream and yields undefined. */
function decodeOr<T>(stream: Stream, decode: () => T): T | undefined {
  try {
    return decode();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    stream.violate(err.code, err.message);
    return undefined;
  }
}

/** What dispatching needs from the connection. */
interface DispatchHost {
  /** Largest WebSocket message this side reassembles (for the reason of ERR_MESSAGE_TOO_LARGE). */
  readonly maxWsMessageBytes: number;
  /** Runs the send pump soon (a WINDOW_UPDATE may unblock frames). */
  schedulePump(): void;
}

/** Applies one frame (RESPONSE, DATA, WINDOW_UPDATE, RESET, WS_MESSAGE, WS_CLOSE) to its open stream. */
export function dispatchStreamFrame(stream: Stream, frame: Frame, host: DispatchHost): void {
  switch (frame.type) {
    case FrameType.RESPONSE: {
      if (!stream.local || stream.responded) return stream.violate('ERR_PROTOCOL', 'unexpected RESPONSE');
      const head = decodeOr(stream, () => decodeResponseHead(frame.payload));
      if (head === undefined) return;
      stream.receiveResponse(head);
      if (frame.flags & Flag.END_STREAM && !stream.closed) stream.receiveEnd();
      return;
    }
    case FrameType.DATA: {
      if (stream.kind !== 'http') return stream.violate('ERR_PROTOCOL', 'DATA on a WebSocket stream');
      if (stream.remoteEnded) return stream.violate('ERR_STREAM_CLOSED', 'DATA after END_STREAM');
      if (stream.local && !stream.responded) return stream.violate('ERR_PROTOCOL', 'DATA before RESPONSE');
      if (!stream.takeWindow(frame.payload.length)) return stream.violate('ERR_FLOW_CONTROL', 'peer exceeded the stream window');
      if (frame.payload.length > 0) stream.receiveData(frame.payload);
      if (frame.flags & Flag.END_STREAM && !stream.closed) stream.receiveEnd();
      return;
    }
    case FrameType.WINDOW_UPDATE: {
      const inc = decodeOr(stream, () => decodeWindowUpdate(frame.payload));
      if (inc === undefined) return;
      if (!stream.grantWindow(inc)) return stream.violate('ERR_FLOW_CONTROL', 'window grew past 2^31-1');
      host.schedulePump();
      return;
    }
    case FrameType.RESET: {
      const { code, reason } = decodeReset(frame.payload);
      stream.fail(protocolError(code, `peer reset stream ${stream.id}${reason ? `: ${reason}` : ''}`));
      return;
    }
    case FrameType.WS_MESSAGE: {
      if (stream.kind !== 'ws') return stream.violate('ERR_PROTOCOL', 'WS_MESSAGE on an HTTP stream');
      if (stream.remoteEnded) return stream.violate('ERR_STREAM_CLOSED', 'WS_MESSAGE after WS_CLOSE');
      if (!stream.takeWindow(frame.payload.length)) return stream.violate('ERR_FLOW_CONTROL', 'peer exceeded the stream window');
      const bad = stream.receiveFragment(frame.payload, (frame.flags & Flag.TEXT) !== 0, (frame.flags & Flag.MORE) !== 0);
      if (bad) stream.violate(bad, bad === 'ERR_MESSAGE_TOO_LARGE' ? `WebSocket ${messageTooBigReason(host.maxWsMessageBytes)}` : 'fragments disagree on TEXT');
      return;
    }
    case FrameType.WS_CLOSE: {
      if (stream.kind !== 'ws') return stream.violate('ERR_PROTOCOL', 'WS_CLOSE on an HTTP stream');
      if (stream.remoteEnded) return stream.violate('ERR_STREAM_CLOSED', 'second WS_CLOSE');
      const cr = decodeOr(stream, () => decodeCodeReason(frame.payload));
      if (cr === undefined) return;
      stream.receiveWsClose(cr.code, cr.reason);
      return;
    }
    default:
      throw protocolError('ERR_UNKNOWN_FRAME_TYPE', `frame type 0x${(frame.type as number).toString(16)}`);
  }
}
