/** How the shell closes its peer connection: its channels first, the peer connection SHELL_PEER_CLOSE_GRACE_MS later. */
import type { ShellPeer } from './peer-connection';
import { quietly } from '../shared/quietly';

/**
 * So the agent sees its channels go `closing` (SCTP stream resets) before the transport: closed together,
 * the transport's ABORT could come first, and @roamhq/wrtc tearing a channel from 'open' to 'closed' races
 * a send on it (SIGSEGV in RTCDataChannel::Send). A leaving page never runs the timer.
 */
const SHELL_PEER_CLOSE_GRACE_MS = 100;

/** Closes a peer connection's channels now and the peer connection a moment later; one already closed is left as it is. */
export function closeShellPeer(p: ShellPeer): void {
  // One that throws is already closed.
  for (const dc of [p.dc, ...(p.probe ? [p.probe] : [])]) quietly(() => dc.close());
  setTimeout(() => quietly(() => p.pc.close()), SHELL_PEER_CLOSE_GRACE_MS);
}
