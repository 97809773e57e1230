/**
 * A viewer's offer with every media section's payload-type attributes (`a=rtpmap`, `a=fmtp`, `a=rtcp-fb`) limited to the
 * payload types its `m=` line lists. An attribute for an unlisted type describes nothing, yet libwebrtc refuses the
 * whole description over it ("Failed to parse video codecs correctly"). Firefox leaves such `a=rtcp-fb` lines behind
 * when a page narrows a section's codecs (RTCRtpTransceiver.setCodecPreferences), as the shell does for its video
 * section. The shell sends its offers so (an agent that does not tidy them takes them as they are), and the agent
 * applies it again, after the offer's MAC is checked, to the copy it gives its own peer connection (a shell of another
 * build).
 */

/** Attributes that name a payload type first: `a=rtpmap:96 …`, `a=fmtp:96 …`, `a=rtcp-fb:96 …` (`*` is every type). */
const FORMAT_ATTRIBUTE = /^a=(?:rtpmap|fmtp|rtcp-fb):(\S+)/;

/** `sdp` without the payload-type attributes of types its section's `m=` line does not list (line endings as CRLF). */
export function withListedFormatsOnly(sdp: string): string {
  let listed: Set<string> | undefined;
  const kept: string[] = [];
  for (const line of sdp.split(/\r\n|\n/)) {
    if (line.startsWith('m=')) {
      // m=<media> <port> <proto> <fmt> …
      listed = new Set(line.split(' ').slice(3));
    } else if (listed) {
      const pt = FORMAT_ATTRIBUTE.exec(line)?.[1];
      if (pt !== undefined && pt !== '*' && !listed.has(pt)) continue;
    }
    kept.push(line);
  }
  return kept.join('\r\n');
}
