/**
 * What the P2P pool tests (p2p-channel-pool, p2p-stripe) do to a Node
 * viewer's channels: a GET over one chosen connection, and a channel whose
 * delivery is held back as SCTP holds an ordered stream back behind a lost
 * packet.
 */
import type { Connection } from '@wingman/protocol';
import { requestOver } from '../../packages/relay-server/src/viewer/request';
import type { RtcDataChannel } from '../../packages/relay-server/src/p2p/webrtc';

/** GET `target` on `conn` with Host `host`: status and body. */
export async function getOver(conn: Connection, host: string, target: string): Promise<string> {
  const r = await requestOver(conn, { method: 'GET', target, headers: [['host', host]] });
  return `${r.status} ${(await r.bytes()).toString()}`;
}

/**
 * Holds back every message the channel receives until `release()`, then
 * delivers them in order: what an ordered SCTP stream does behind a lost
 * packet. wrtc dispatches a channel's events through its dispatchEvent.
 */
export function holdChannel(dc: RtcDataChannel): { held: () => number; release: () => void } {
  const target = dc as unknown as { dispatchEvent(ev: { type: string }): void };
  const dispatch = target.dispatchEvent.bind(target);
  const held: Array<{ type: string }> = [];
  target.dispatchEvent = (ev) => (ev.type === 'message' ? void held.push(ev) : dispatch(ev));
  return {
    held: () => held.length,
    release() {
      target.dispatchEvent = dispatch;
      for (const ev of held.splice(0)) dispatch(ev);
    },
  };
}
