import { HTML_SNIFF_BYTES } from '../../src/shared/constants';
import { SHIM_PATH } from '@wingman/protocol';
import { findShimInsertion, isHtml, SHIM_TAG, shimTag } from '../../src/shared/html-inject';

const bytes = (s: string) => new TextEncoder().encode(s);
function inject(html: string): string {
  const p = findShimInsertion(bytes(html), true);
  if (p.kind !== 'insert') return `<${p.kind}>`;
  return html.slice(0, p.offset) + SHIM_TAG + html.slice(p.offset);
}

describe('where the shim goes in an HTML document', () => {
  it('goes right after <head>, before every app script', () => {
    expect(inject('<!doctype html><html><head><script>app()</script></head>')).toBe(`<!doctype html><html><head>${SHIM_TAG}<script>app()</script></head>`);
  });

  it('goes after a <meta charset> that precedes the scripts, keeping it in the first 1024 bytes', () => {
    expect(inject('<html><HEAD lang=x><title>t</title><meta charset="utf-8"><script src=a.js></script>')).toBe(
      `<html><HEAD lang=x><title>t</title><meta charset="utf-8">${SHIM_TAG}<script src=a.js></script>`,
    );
  });

  it('does not mistake <header> for <head>', () => {
    expect(inject('<!doctype html><body><header>x</header><script>1</script>')).toBe(`<!doctype html>${SHIM_TAG}<body><header>x</header><script>1</script>`);
  });

  it('without a <head>, goes after <html> or the doctype (never before it: quirks mode), or at the start', () => {
    expect(inject('<!DOCTYPE html><html lang="en"><body>x')).toBe(`<!DOCTYPE html><html lang="en">${SHIM_TAG}<body>x`);
    expect(inject('<!doctype html><p>x</p>')).toBe(`<!doctype html>${SHIM_TAG}<p>x</p>`);
    expect(inject('<p>x</p>')).toBe(`${SHIM_TAG}<p>x</p>`);
  });

  it('keeps a UTF-8 byte order mark first and leaves UTF-16 documents alone', () => {
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf, ...bytes('<p>x</p>'));
    expect(findShimInsertion(bom, true)).toEqual({ kind: 'insert', offset: 3 });
    expect(findShimInsertion(Uint8Array.of(0xff, 0xfe, 0x3c, 0), true)).toEqual({ kind: 'skip' });
  });

  it('asks for more bytes while the head is still arriving, and decides at HTML_SNIFF_BYTES at the latest', () => {
    expect(findShimInsertion(bytes('<!doctype html><html><he'), false)).toEqual({ kind: 'need-more' });
    expect(findShimInsertion(bytes('<html><head><title>t</title>'), false)).toEqual({ kind: 'need-more' });
    expect(findShimInsertion(bytes('<html><head><title>t</title><script>'), false)).toEqual({ kind: 'insert', offset: 12 });
    const big = bytes(`<html>${' '.repeat(HTML_SNIFF_BYTES)}`);
    expect(findShimInsertion(big, false)).toEqual({ kind: 'insert', offset: 6 });
  });

  it('recognises HTML content types only', () => {
    expect(isHtml('text/html; charset=utf-8')).toBe(true);
    expect(isHtml('TEXT/HTML')).toBe(true);
    expect(isHtml('text/htmlx')).toBe(false);
    expect(isHtml('application/json')).toBe(false);
    expect(isHtml(null)).toBe(false);
  });
});

describe('the shim’s tag', () => {
  it('names the app’s port the agent gave, and nothing that is not a port', () => {
    expect(shimTag(undefined, '1313')).toBe(`<script data-app-port="1313" src="${SHIM_PATH}"></script>`);
    expect(shimTag('n0nce', '1313')).toBe(`<script nonce="n0nce" data-app-port="1313" src="${SHIM_PATH}"></script>`);
    expect(shimTag(undefined, '1313"><script>alert(1)</script>')).toBe(SHIM_TAG);
    expect(shimTag()).toBe(SHIM_TAG);
  });

  it("carries the tunnel's loopback routes on the tag, & escaped, and nothing that is not `<prefix>=<port>` pairs", () => {
    expect(shimTag(undefined, '5173', '/api=8000 /a&b=8001')).toBe(
      `<script data-app-port="5173" data-app-routes="/api=8000 /a&amp;b=8001" src="${SHIM_PATH}"></script>`,
    );
    for (const bad of ['/api=8000"><script>', 'api=8000', '/api=', '/api=8000  /ws=8001', '/a b=80'])
      expect(shimTag(undefined, '5173', bad)).toBe(`<script data-app-port="5173" src="${SHIM_PATH}"></script>`);
  });
});
