/**
 * A P2P body that stalls or fails mid-way: each case's events are driven by
 * the body's own calls (a slow window asks `stalls`, a move calls `resume`),
 * so no case waits on the clock beyond the short window it passes.
 */
import { resumableBody, type ResumeWhy, type StallMove } from '../../src/sw/resumable-body';
import { ChannelError } from '../../src/sw/errors';

/** The window the cases pass (the product's is MOVE_WINDOW_MS); any body is slow against this rate. */
const WINDOW_MS = 5;
const lossy = (stalls: () => boolean = () => true): StallMove => ({ stalls, windowMs: WINDOW_MS, belowBytesPerS: 1e9 });

const bytes = (s: string) => new TextEncoder().encode(s);

/** A stream whose chunks the case pushes, errors or ends when it wants. */
function channelBody() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    cancel: () => void (cancelled = true),
  });
  return {
    stream,
    push: (s: string) => controller.enqueue(bytes(s)),
    end: () => controller.close(),
    fail: (e: Error) => controller.error(e),
    cancelled: () => cancelled,
  };
}

const streamOf = (s: string) => new Response(s).body!;
const text = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();

describe('resumableBody', () => {
  it('moves a body that comes too slowly on a lossy path to the relay from the offset it reached, and cancels the channel’s', async () => {
    const p2p = channelBody();
    p2p.push('ab');
    const calls: Array<[number, ResumeWhy]> = [];
    const body = resumableBody(
      p2p.stream,
      async (offset, why) => {
        calls.push([offset, why]);
        return streamOf('cdef');
      },
      lossy(),
    );
    expect(await text(body)).toBe('abcdef');
    expect(calls).toEqual([[2, 'body-stalled']]);
    expect(p2p.cancelled()).toBe(true);
  });

  it('keeps a slow body on the channel while the path is not called lossy', async () => {
    const p2p = channelBody();
    p2p.push('ab');
    const resume = jest.fn();
    let checks = 0;
    const stalls = () => {
      // The first stall check: the rest comes over the channel after it.
      if (++checks === 1) {
        p2p.push('cd');
        p2p.end();
      }
      return false;
    };
    expect(await text(resumableBody(p2p.stream, resume, lossy(stalls)))).toBe('abcd');
    expect(checks).toBeGreaterThanOrEqual(1);
    expect(resume).not.toHaveBeenCalled();
  });

  it('carries on over the channel when the relay cannot give the same body, tries once, and still resumes a later channel failure', async () => {
    const p2p = channelBody();
    p2p.push('ab');
    const calls: ResumeWhy[] = [];
    const resume = async (offset: number, why: ResumeWhy) => {
      calls.push(why);
      if (why === 'channel-failed') return streamOf('ef');
      // Refused; the channel then brings two more bytes, stalls again, and fails.
      p2p.push('cd');
      setTimeout(() => p2p.fail(new ChannelError('ERR_CONNECTION_LOST', 'the channel closed')), WINDOW_MS * 3);
      throw new ChannelError('ERR_CONNECTION_LOST', `not the same body at ${offset}`, false);
    };
    expect(await text(resumableBody(p2p.stream, resume, lossy()))).toBe('abcdef');
    expect(calls).toEqual(['body-stalled', 'channel-failed']);
  });

  it('counts only the time spent waiting for the channel: a consumer that reads slowly moves nothing', async () => {
    const p2p = channelBody();
    for (const c of ['ab', 'cd', 'ef']) p2p.push(c);
    p2p.end();
    const resume = jest.fn();
    const reader = resumableBody(p2p.stream, resume, lossy()).getReader();
    let got = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += new TextDecoder().decode(value);
      // Ten windows between reads, every chunk already there.
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS * 10));
    }
    expect(got).toBe('abcdef');
    expect(resume).not.toHaveBeenCalled();
  });

  it('keeps a body that comes fast enough on a lossy path (on a virtual clock)', async () => {
    jest.useFakeTimers();
    try {
      // Two bytes every millisecond, for four windows.
      let sent = 0;
      const steady = new ReadableStream<Uint8Array>({
        async pull(c) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          if (sent++ < WINDOW_MS * 4) c.enqueue(bytes('ab'));
          else c.close();
        },
      });
      const resume = jest.fn();
      const body = text(resumableBody(steady, resume, { stalls: () => true, windowMs: WINDOW_MS, belowBytesPerS: 1 }));
      await jest.advanceTimersByTimeAsync(WINDOW_MS * 10);
      expect(await body).toBe('ab'.repeat(WINDOW_MS * 4));
      expect(resume).not.toHaveBeenCalled();
    } finally {
      jest.useRealTimers();
    }
  });

  it('passes on an error that is no channel failure', async () => {
    const p2p = channelBody();
    p2p.push('ab');
    p2p.fail(new ChannelError('ERR_CANCEL', 'aborted', false));
    const resume = jest.fn();
    await expect(text(resumableBody(p2p.stream, resume, lossy()))).rejects.toThrow('ERR_CANCEL');
    expect(resume).not.toHaveBeenCalled();
  });
});
