/**
 * The fingerprints a shell binds its channels to, read in Chromium from real
 * peer connections: a channel can open before setRemoteDescription's promise
 * settles (on a busy page), so the fingerprints of
 * a peer connection still waiting for its answer wait for it instead of
 * failing the binding.
 */
import type { LaunchedChromium } from './helpers/browser';
import { openModulePage, type ModulePage } from './helpers/page-module';

jest.setTimeout(60_000);

type Outcome = { fps?: { agent: string; viewer: string }; error?: string; agentSdp: string; viewerSdp: string };

describe('channel fingerprints', () => {
  let page: ModulePage;
  let browser: LaunchedChromium;
  beforeAll(async () => {
    page = await openModulePage('fp', 'src/page/channel-fingerprints', 'channelFingerprints');
    browser = page.browser;
  });
  afterAll(() => page?.close());

  /** Two peer connections through offer and answer; the fingerprints of the offerer are asked `answerAfterMs` before its answer goes in (never: no answer). */
  const run = (answerAfterMs: number | null, waitMs?: number) =>
    browser.page.evaluate(
      async ([after, wait]) => {
        const read = (window as unknown as { channelFingerprints(pc: RTCPeerConnection, ms?: number): Promise<{ agent: string; viewer: string }> })
          .channelFingerprints;
        const viewer = new RTCPeerConnection();
        const agent = new RTCPeerConnection();
        viewer.createDataChannel('d', { negotiated: true, id: 0 });
        agent.createDataChannel('d', { negotiated: true, id: 0 });
        await viewer.setLocalDescription();
        await agent.setRemoteDescription(viewer.localDescription!);
        await agent.setLocalDescription();
        const asked = read(viewer, wait ?? undefined).then(
          (fps) => ({ fps }),
          (err: Error) => ({ error: err.message }),
        );
        if (after !== null) {
          await new Promise((r) => setTimeout(r, after));
          await viewer.setRemoteDescription(agent.localDescription!);
        }
        const outcome = await asked;
        const sdps = { agentSdp: agent.localDescription!.sdp, viewerSdp: viewer.localDescription!.sdp };
        viewer.close();
        agent.close();
        return { ...outcome, ...sdps };
      },
      [answerAfterMs, waitMs ?? null] as const,
    ) as Promise<Outcome>;

  const fingerprintIn = (sdp: string) => /a=fingerprint:(sha-256 [0-9A-F:]+)/.exec(sdp)![1];

  it('waits for an answer still being applied, then reads both ends', async () => {
    const out = await run(100);
    expect(out.error).toBeUndefined();
    expect(out.fps).toEqual({ agent: fingerprintIn(out.agentSdp), viewer: fingerprintIn(out.viewerSdp) });
  });

  it('fails with a clear error when no answer comes within the wait', async () => {
    const out = await run(null, 300);
    expect(out.fps).toBeUndefined();
    expect(out.error).toBe('a DTLS fingerprint is missing');
  });
});
