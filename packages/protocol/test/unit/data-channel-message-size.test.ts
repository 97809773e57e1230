/**
 * Data-channel message size negotiation: what a session description
 * announces (a=max-message-size, RFC 8841 §6), how an answer announces a
 * smaller cap, and the size a sender settles on.
 */
import {
  announceMaxMessageSize,
  dataChannelMessageBytes,
  DATA_CHANNEL_MAX_MESSAGE_BYTES,
  MAX_FRAME_BYTES,
  maxMessageSizeFromSdp,
  SDP_DEFAULT_MAX_MESSAGE_BYTES,
} from '../../src';

const KiB = 1024;
const sdp = (line?: string) =>
  ['v=0', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=sctp-port:5000', ...(line ? [line] : []), 'a=setup:active', ''].join('\r\n');

describe('maxMessageSizeFromSdp', () => {
  it.each([
    ['a=max-message-size:262144', 262144],
    ['a=max-message-size:65536', 65536],
    ['a=max-message-size:0', 0],
    [undefined, SDP_DEFAULT_MAX_MESSAGE_BYTES],
    ['a=max-message-size:99999999999999999999', SDP_DEFAULT_MAX_MESSAGE_BYTES],
  ])('reads %p as %p', (line, bytes) => {
    expect(maxMessageSizeFromSdp(sdp(line))).toBe(bytes);
  });
});

describe('announceMaxMessageSize', () => {
  it('lowers a larger announcement to the cap and keeps the line endings', () => {
    const out = announceMaxMessageSize(sdp('a=max-message-size:262144'), 64 * KiB);
    expect(out).toBe(sdp('a=max-message-size:65536'));
  });

  it('lowers "no limit" (0) to the cap', () => {
    expect(maxMessageSizeFromSdp(announceMaxMessageSize(sdp('a=max-message-size:0'), 64 * KiB))).toBe(64 * KiB);
  });

  it('keeps an announcement already below the cap, and a description without one', () => {
    expect(announceMaxMessageSize(sdp('a=max-message-size:32768'), 64 * KiB)).toBe(sdp('a=max-message-size:32768'));
    expect(announceMaxMessageSize(sdp(), 64 * KiB)).toBe(sdp());
  });
});

describe('dataChannelMessageBytes', () => {
  it.each([
    // remote announced, own cap, sends
    [256 * KiB, 64 * KiB, 64 * KiB],
    [64 * KiB, 256 * KiB, 64 * KiB],
    [32 * KiB, undefined, 32 * KiB],
    [0, 64 * KiB, 64 * KiB], // 0: the remote has no limit
    [0, undefined, DATA_CHANNEL_MAX_MESSAGE_BYTES],
    [undefined, undefined, SDP_DEFAULT_MAX_MESSAGE_BYTES], // nothing known: RFC 8841's default
    [4 * KiB, undefined, MAX_FRAME_BYTES], // never below one whole frame
    [Number.NaN, undefined, SDP_DEFAULT_MAX_MESSAGE_BYTES],
  ])('remote %p, own cap %p → %p', (remote, own, bytes) => {
    expect(dataChannelMessageBytes(remote, own)).toBe(bytes);
  });
});
