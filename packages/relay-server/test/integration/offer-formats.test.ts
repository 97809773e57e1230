/**
 * A viewer's offer whose video section carries attributes for payload types
 * its m= line does not list (what Firefox leaves when a page narrows the
 * section's codecs): @roamhq/wrtc refuses it as is, and takes it once the
 * agent keeps only the listed types' attributes. The peer connections live
 * in a child process (helpers/peer-fixture.ts).
 */
import { withListedFormatsOnly } from '@wingman/protocol';
import { PeerFixture } from './helpers/peer-fixture';

let fixture: PeerFixture;
beforeEach(async () => {
  fixture = await PeerFixture.start();
});
afterEach(async () => {
  await fixture.close();
});

/** An offer with a receive-only video section and a data channel, its video section cut to its first codec with the other codecs' rtcp-fb lines left behind. */
async function narrowedOffer(): Promise<{ sdp: string; kept: string; dangling: string[] }> {
  const pc = await fixture.newPc();
  await pc.addTransceiver('video', { direction: 'recvonly' });
  await pc.createDataChannel('wingman');
  const sdp = (await pc.createOffer()).sdp;
  const sections = sdp.split(/\r\n(?=m=)/);
  const v = sections.findIndex((s) => s.startsWith('m=video'));
  const lines = sections[v]!.split('\r\n');
  const fields = lines[0]!.split(' ');
  const [kept, ...others] = fields.slice(3);
  lines[0] = [...fields.slice(0, 3), kept].join(' ');
  const dangling = others.map((pt) => `a=rtcp-fb:${pt} nack`);
  sections[v] = lines
    .filter((l) => !/^a=(rtpmap|fmtp|rtcp-fb):/.test(l) || l.startsWith(`a=rtpmap:${kept} `))
    .concat(dangling)
    .join('\r\n');
  return { sdp: sections.join('\r\n'), kept: kept!, dangling };
}

describe("the agent's copy of a viewer's offer", () => {
  it('keeps only the attributes of the payload types each m= line lists, which wrtc then takes', async () => {
    const { sdp, kept, dangling } = await narrowedOffer();
    expect(dangling.length).toBeGreaterThan(0);
    await expect((await fixture.newPc()).setRemoteDescription({ type: 'offer', sdp })).rejects.toThrow(/codecs/);

    const tidy = withListedFormatsOnly(sdp);
    for (const line of dangling) expect(tidy).not.toContain(line);
    expect(tidy).toContain(`a=rtpmap:${kept} `);
    expect(tidy).toContain('m=application');
    const pc = await fixture.newPc();
    await pc.setRemoteDescription({ type: 'offer', sdp: tidy });
    const answer = await pc.createAnswer();
    expect(answer.sdp).toMatch(/^m=video 9 \S+ \d+/m);
  });

  it('leaves wildcard feedback and sections without such attributes as they were', () => {
    const sdp = [
      'v=0',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'a=rtpmap:96 VP8/90000',
      'a=rtcp-fb:* nack',
      'a=rtcp-fb:97 nack',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'a=sctp-port:5000',
      '',
    ].join('\r\n');
    expect(withListedFormatsOnly(sdp)).toBe(sdp.replace('a=rtcp-fb:97 nack\r\n', ''));
  });
});
