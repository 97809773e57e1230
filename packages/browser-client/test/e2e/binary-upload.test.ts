/**
 * Large ArrayBuffer / typed-array request bodies (fetch, XHR) reach the app byte for byte
 * with the headers the browser gives them, over P2P: the shim hands them to
 * the browser as Blobs (Chromium copies a BufferSource body of an intercepted
 * request on the main thread the shell shares; docs/benchmarks.md), which
 * must not change what is sent — a view's own range only, no Content-Type
 * unless the app set one, the bytes as they were at the call.
 */
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { inPage, openShell, waitForTransport } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

/** Above the shim's Blob threshold (256 KiB), and not a multiple of 64 KiB. */
const BODY_BYTES = 3 * 1024 * 1024 + 12_345;

interface Sent {
  kind: string;
  localSha: string;
  remote: { sha: string; length: number; contentType: string | null };
  transport: string | null;
}

describe('binary request bodies', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('sends an ArrayBuffer, an offset typed-array view, a DataView and a typed array changed right after the call byte for byte, by fetch() and XHR, over P2P', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const sent = await inPage(
      frame,
      async (bytes) => {
        const hex = async (b: Uint8Array<ArrayBuffer>) =>
          Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', b)), (x) => x.toString(16).padStart(2, '0')).join('');
        // A buffer with bytes on either side of the part that is sent.
        const backing = new Uint8Array(bytes + 200);
        for (let o = 0; o < backing.length; o += 65536) crypto.getRandomValues(backing.subarray(o, Math.min(backing.length, o + 65536)));
        const part = backing.subarray(100, 100 + bytes);
        const out: Array<{ kind: string; localSha: string; remote: unknown; transport: string | null }> = [];
        const send = async (kind: string, body: BodyInit, expected: Uint8Array, headers?: Record<string, string>, after?: () => void) => {
          const localSha = await hex(expected.slice());
          const answer = fetch('/sha?head', { method: 'POST', body, ...(headers ? { headers } : {}) });
          after?.();
          const r = await answer;
          out.push({ kind, localSha, remote: await r.json(), transport: r.headers.get('x-wingman-transport') });
        };
        const sendXhr = async (kind: string, body: Uint8Array<ArrayBuffer>, headers: Record<string, string>) => {
          const localSha = await hex(body.slice());
          const xhr = new XMLHttpRequest();
          xhr.open('POST', '/sha?head');
          for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
          await new Promise<void>((resolve) => {
            xhr.onloadend = () => resolve();
            xhr.send(body);
          });
          out.push({ kind, localSha, remote: JSON.parse(xhr.responseText), transport: xhr.getResponseHeader('x-wingman-transport') });
        };
        await send('ArrayBuffer', part.slice().buffer, part);
        await send('Uint8Array view at an offset', part, part);
        await send('DataView', new DataView(backing.buffer, 100, bytes), part, { 'content-type': 'application/x-test' });
        const mutable = part.slice();
        const before = mutable.slice();
        await send('Uint8Array changed after the call', mutable, before, undefined, () => mutable.fill(7));
        await sendXhr('XHR Uint8Array view at an offset', part, {});
        await sendXhr('XHR with a Content-Type', part, { 'content-type': 'application/x-test' });
        return out;
      },
      BODY_BYTES,
    );
    expect(sent.map((s) => s.kind)).toEqual([
      'ArrayBuffer',
      'Uint8Array view at an offset',
      'DataView',
      'Uint8Array changed after the call',
      'XHR Uint8Array view at an offset',
      'XHR with a Content-Type',
    ]);
    for (const s of sent as Sent[]) {
      expect({ kind: s.kind, transport: s.transport, sha: s.remote.sha, length: s.remote.length }).toEqual({
        kind: s.kind,
        transport: 'p2p',
        sha: s.localSha,
        length: BODY_BYTES,
      });
      expect(s.remote.contentType).toBe(s.kind === 'DataView' || s.kind === 'XHR with a Content-Type' ? 'application/x-test' : null);
    }
  });
});
