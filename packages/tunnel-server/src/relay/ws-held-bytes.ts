/**
 * Bytes a `ws` WebSocket holds of what its peer sent and it has not delivered yet: the unparsed input (an unfinished
 * frame) plus the frames of an unfinished fragmented message. `ws` has no public figure for this; its Receiver's
 * fields are read here, in one place, and checked once when the relay starts (checkWsReceiverFields) so a `ws`
 * upgrade that renames them fails loudly at startup rather than silently unbounded.
 */
import { WebSocket } from 'ws';

/** ws exports its Receiver class (untyped in @types/ws). */
const { Receiver } = WebSocket as unknown as { Receiver: new () => unknown };

interface ReceiverFields {
  _bufferedBytes: number;
  _fragments: unknown[];
  _messageLength: number;
}

function hasFields(receiver: unknown): receiver is ReceiverFields {
  const r = receiver as Partial<Record<keyof ReceiverFields, unknown>>;
  return typeof r._bufferedBytes === 'number' && Array.isArray(r._fragments) && typeof r._messageLength === 'number';
}

/** Throws when the installed `ws` Receiver lacks the fields wsHeldBytes() reads. */
export function checkWsReceiverFields(): void {
  if (!hasFields(new Receiver())) throw new Error('the installed ws has no Receiver byte counts: wsHeldBytes() needs updating for it');
}

/** Held bytes of `ws`'s receiver (0 once it has none). */
export function wsHeldBytes(ws: WebSocket): number {
  const receiver = (ws as unknown as { _receiver?: unknown })._receiver;
  if (!hasFields(receiver)) return 0;
  return receiver._bufferedBytes + (receiver._fragments.length > 0 ? receiver._messageLength : 0);
}
