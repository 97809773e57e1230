/**
 * Work deferred past the response's send: it runs on a later turn of the
 * event loop, in the order it was queued, and one failing call does not
 * stop the others.
 */
import { afterSend } from '../../src/forward/after-send';

describe('afterSend', () => {
  it('runs queued calls after the current turn and its microtasks, in order', async () => {
    const seen: string[] = [];
    afterSend(() => seen.push('log'));
    afterSend(() => seen.push('capture'));
    queueMicrotask(() => seen.push('send'));
    seen.push('queued');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['queued', 'send', 'log', 'capture']);
  });

  it('keeps running the other calls when one throws, and reports it as a warning', async () => {
    const seen: string[] = [];
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      afterSend(() => {
        throw new Error('inspector bug');
      });
      afterSend(() => seen.push('next'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen).toEqual(['next']);
      expect(String(warn.mock.calls[0]?.[0])).toContain('inspector bug');
    } finally {
      warn.mockRestore();
    }
  });
});
