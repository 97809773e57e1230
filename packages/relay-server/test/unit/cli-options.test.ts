/** `wingman http` options: the relayed WebSocket message cap, viewer approval. */
import { resolveHttpConfig, UsageError } from '../../src/cli/options';

describe('resolveHttpConfig: --ws-max-message-bytes', () => {
  it('defaults to 1 MiB, reads WINGMAN_WS_MAX_MESSAGE_BYTES, and lets the flag win', () => {
    expect(resolveHttpConfig('3000', {}, {}).wsMaxMessageBytes).toBe(1024 * 1024);
    expect(resolveHttpConfig('3000', {}, { WINGMAN_WS_MAX_MESSAGE_BYTES: '4096' }).wsMaxMessageBytes).toBe(4096);
    expect(resolveHttpConfig('3000', { wsMaxMessageBytes: '2048' }, { WINGMAN_WS_MAX_MESSAGE_BYTES: '4096' }).wsMaxMessageBytes).toBe(2048);
  });

  it.each(['0', '-1', '1MiB', String(64 * 1024 * 1024 + 1)])('refuses %j with a usage error naming the flag', (value) => {
    expect(() => resolveHttpConfig('3000', { wsMaxMessageBytes: value }, {})).toThrow(
      new UsageError(`invalid --ws-max-message-bytes "${value}": expected bytes, 1-${64 * 1024 * 1024}`),
    );
  });
});

describe('resolveHttpConfig: --approve', () => {
  it('is off by default, on with the flag or WINGMAN_APPROVE=1, off with WINGMAN_APPROVE=0', () => {
    expect(resolveHttpConfig('3000', {}, {}).approve).toBe(false);
    expect(resolveHttpConfig('3000', { approve: true }, {}).approve).toBe(true);
    expect(resolveHttpConfig('3000', {}, { WINGMAN_APPROVE: '1' }).approve).toBe(true);
    expect(resolveHttpConfig('3000', {}, { WINGMAN_APPROVE: '0' }).approve).toBe(false);
  });

  it('refuses another WINGMAN_APPROVE value with a usage error', () => {
    expect(() => resolveHttpConfig('3000', {}, { WINGMAN_APPROVE: 'yes' })).toThrow(new UsageError('invalid WINGMAN_APPROVE "yes": expected 0 or 1'));
  });
});
