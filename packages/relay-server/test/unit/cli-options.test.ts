/** `wingman http` options: the relayed WebSocket message cap, viewer approval, --public, the process's buffer budget. */
import { resolveHttpConfig, UsageError } from '../../src/cli/options';
import { bufferBudgetFromEnv, processBufferBudget } from '../../src/forward/buffer-budget';
import { AGENT_BUFFER_BUDGET_BYTES } from '../../src/forward/constants';

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

describe('resolveHttpConfig: --public', () => {
  it('is off by default (only the full link opens a session), on with the flag or WINGMAN_PUBLIC=1', () => {
    expect(resolveHttpConfig('3000', {}, {}).public).toBe(false);
    expect(resolveHttpConfig('3000', { public: true }, {}).public).toBe(true);
    expect(resolveHttpConfig('3000', {}, { WINGMAN_PUBLIC: '1' }).public).toBe(true);
    expect(resolveHttpConfig('3000', {}, { WINGMAN_PUBLIC: '0' }).public).toBe(false);
  });

  it('never makes a private session public: refused with --private, and WINGMAN_PUBLIC=1 does not apply to one', () => {
    expect(() => resolveHttpConfig('3000', { public: true, private: true }, {})).toThrow(
      new UsageError('--public and --private do not go together: a private session is reached only with the link key'),
    );
    expect(resolveHttpConfig('3000', { private: true }, { WINGMAN_PUBLIC: '1' }).public).toBe(false);
  });

  it('refuses another WINGMAN_PUBLIC value with a usage error', () => {
    expect(() => resolveHttpConfig('3000', {}, { WINGMAN_PUBLIC: 'yes' })).toThrow(new UsageError('invalid WINGMAN_PUBLIC "yes": expected 0 or 1'));
  });
});

describe('resolveHttpConfig: WINGMAN_BUFFER_BUDGET_BYTES', () => {
  it('accepts 1 MiB to 1 GiB, and an unset or empty variable (the default)', () => {
    expect(bufferBudgetFromEnv({})).toEqual({ bytes: AGENT_BUFFER_BUDGET_BYTES });
    expect(bufferBudgetFromEnv({ WINGMAN_BUFFER_BUDGET_BYTES: '' })).toEqual({ bytes: AGENT_BUFFER_BUDGET_BYTES });
    expect(bufferBudgetFromEnv({ WINGMAN_BUFFER_BUDGET_BYTES: String(8 * 1024 * 1024) })).toEqual({ bytes: 8 * 1024 * 1024 });
    expect(() => resolveHttpConfig('3000', {}, { WINGMAN_BUFFER_BUDGET_BYTES: String(1024 * 1024) })).not.toThrow();
    expect(() => resolveHttpConfig('3000', {}, { WINGMAN_BUFFER_BUDGET_BYTES: String(1024 * 1024 * 1024) })).not.toThrow();
  });

  it.each(['0', '-1', '32MiB', '1e9', String(1024 * 1024 - 1), String(1024 * 1024 * 1024 + 1)])(
    'refuses %j with a usage error naming the variable',
    (value) => {
      expect(() => resolveHttpConfig('3000', {}, { WINGMAN_BUFFER_BUDGET_BYTES: value })).toThrow(
        new UsageError(`invalid WINGMAN_BUFFER_BUDGET_BYTES "${value}": expected bytes, 1048576-1073741824`),
      );
    },
  );

  it('sets the limit of the budget the forwarders of the process share', () => {
    expect(processBufferBudget({ WINGMAN_BUFFER_BUDGET_BYTES: String(2 * 1024 * 1024) }).limit).toBe(2 * 1024 * 1024);
  });
});
