/**
 * How the shell closes its peer connection, seen from the other end, in
 * Chromium with two real peer connections on loopback: the close of each
 * channel (the app's and the loss probe's) reaches the other end as a stream
 * reset, while the transport is still up, not as the transport's end (an
 * @roamhq/wrtc agent can crash on that while it sends: close-shell-peer.ts).
 */
import type { LaunchedChromium } from './helpers/browser';
import { openModulePage, type ModulePage } from './helpers/page-module';

jest.setTimeout(60_000);

describe('closing a shell peer connection', () => {
  let page: ModulePage;
  let browser: LaunchedChromium;
  beforeAll(async () => {
    page = await openModulePage('close', 'src/page/close-shell-peer', 'closeShellPeer');
    browser = page.browser;
  });
  afterAll(() => page?.close());

  it("closes each channel before the transport: the other end's channels close while its transport is connected", async () => {
    const seen = await browser.page.evaluate(async () => {
      const close = (window as unknown as { closeShellPeer(p: { pc: RTCPeerConnection; dc: RTCDataChannel; probe?: RTCDataChannel }): void }).closeShellPeer;
      const shell = new RTCPeerConnection();
      const agent = new RTCPeerConnection();
      shell.onicecandidate = (e) => void (e.candidate && agent.addIceCandidate(e.candidate));
      agent.onicecandidate = (e) => void (e.candidate && shell.addIceCandidate(e.candidate));
      const dc = shell.createDataChannel('wingman');
      const probe = shell.createDataChannel('wingman-loss');
      const remote: RTCDataChannel[] = [];
      const all = new Promise<void>((resolve) => {
        agent.ondatachannel = (e) => {
          remote.push(e.channel);
          const opened = () => remote.length === 2 && remote.every((c) => c.readyState === 'open') && resolve();
          e.channel.onopen = opened;
          opened();
        };
      });
      await shell.setLocalDescription();
      await agent.setRemoteDescription(shell.localDescription!);
      await agent.setLocalDescription();
      await shell.setRemoteDescription(agent.localDescription!);
      await all;
      // What each of the agent's channels goes through, and its SCTP transport's state when it closed.
      const events = remote.map(() => [] as string[]);
      remote.forEach((c, i) => {
        c.addEventListener('close', () => events[i]!.push(`close, transport ${agent.sctp?.state}`));
      });
      const ended = new Promise<void>((resolve) => {
        const check = () => (events.every((e) => e.some((x) => x.startsWith('close,'))) ? resolve() : setTimeout(check, 10));
        check();
      });
      close({ pc: shell, dc, probe });
      await Promise.race([ended, new Promise((r) => setTimeout(r, 5_000))]);
      agent.close();
      return events;
    });
    expect(seen).toEqual([['close, transport connected'], ['close, transport connected']]);
  });
});
