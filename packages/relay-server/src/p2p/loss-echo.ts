/** The agent's end of the loss probe (docs/PROTOCOL.md §Loss probe): probes echoed as they come; no protocol frame or app byte, so no binding. */
import { echoLossProbes, LOSS_PROBE_INIT, LOSS_PROBE_LABEL } from '@wingman/protocol';
import type { RtcPeerConnection } from './webrtc';

/** Adds the probe channel to `pc` and answers on it; a stack that refuses it leaves the viewer without a verdict. */
export function answerLossProbes(pc: RtcPeerConnection): void {
  try {
    const dc = pc.createDataChannel(LOSS_PROBE_LABEL, { ...LOSS_PROBE_INIT });
    dc.binaryType = 'arraybuffer';
    echoLossProbes(dc);
  } catch {
    /* no negotiated channels here: the viewer's probes go unanswered, which is no verdict */
  }
}
