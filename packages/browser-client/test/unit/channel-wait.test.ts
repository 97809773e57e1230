/**
 * "A data channel is coming" (src/page/channel-wait.ts channelComing), the
 * rule by which the shell holds an app WebSocket for its channel.
 */
import { channelComing } from '../../src/page/channel-wait';
import { CHANNEL_COMING_WAIT_MS } from '../../src/shared/constants';

describe('channelComing', () => {
  it('is true only after a direct channel, while a young attempt connects', () => {
    expect(channelComing({ directChannelSeen: true, connectingForMs: 0 })).toBe(true);
    expect(channelComing({ directChannelSeen: true, connectingForMs: CHANNEL_COMING_WAIT_MS - 1 })).toBe(true);
    expect(channelComing({ directChannelSeen: true, connectingForMs: CHANNEL_COMING_WAIT_MS })).toBe(false);
    expect(channelComing({ directChannelSeen: true, connectingForMs: undefined })).toBe(false);
    expect(channelComing({ directChannelSeen: false, connectingForMs: 0 })).toBe(false);
  });
});
