import { isWebKit, MAX_REDIRECT_FOLLOW_UPS, REDIRECT_BODY_MAX_BYTES, REDIRECT_FOLLOW_UP_MEMORY_MS, RedirectFollowUps } from '../../src/sw/redirect-follow-ups';

const origin = 'http://s.localhost';
const start = `${origin}/act?x=1`;
const landing = `${origin}/landing?x=1`;
const post = (url: string, body?: string) =>
  new Request(url, { method: 'POST', body, headers: { 'content-type': 'text/plain' }, referrer: `${origin}/page`, referrerPolicy: 'strict-origin' });
const bytes = (s: string) => new TextEncoder().encode(s);

describe('RedirectFollowUps: what WebKit leaves off the follow-up of a redirect a Service Worker answered', () => {
  it('gives a 307/308 follow-up that arrived empty the body it was redirected with, keeping its fields and referrer, once', async () => {
    for (const status of [307, 308]) {
      const f = new RedirectFollowUps(false);
      f.keep('c1', post(start, 'kept'), status, landing, bytes('kept'));
      const restored = await f.restore(post(landing), 'c1');
      expect(await restored.text()).toBe('kept');
      expect(restored.method).toBe('POST');
      expect(restored.headers.get('content-type')).toBe('text/plain');
      expect(restored.referrer).toBe(`${origin}/page`);
      expect(restored.referrerPolicy).toBe('strict-origin');
      const again = post(landing);
      expect(await f.restore(again, 'c1')).toBe(again);
    }
  });

  it('leaves a follow-up that brought its body as it is (Chromium, Firefox) and drops the copy', async () => {
    const f = new RedirectFollowUps(false);
    f.keep('c1', post(start, 'kept'), 307, landing, bytes('kept'));
    const own = post(landing, 'own');
    expect(await f.restore(own, 'c1')).toBe(own);
    expect(await own.text()).toBe('own');
    const empty = post(landing);
    expect(await f.restore(empty, 'c1')).toBe(empty);
  });

  it('matches the document, the method and the target; keeps nothing for other statuses, empty bodies or bodies over the cap', async () => {
    const f = new RedirectFollowUps(false);
    f.keep('c1', post(start, 'kept'), 307, landing, bytes('kept'));
    const other = post(landing);
    expect(await f.restore(other, 'c2')).toBe(other);
    const get = new Request(landing);
    expect(await f.restore(get, 'c1')).toBe(get);
    const elsewhere = post(`${origin}/elsewhere`);
    expect(await f.restore(elsewhere, 'c1')).toBe(elsewhere);
    expect(await (await f.restore(post(landing), 'c1')).text()).toBe('kept');

    f.keep('c1', post(start, 'x'), 302, landing, bytes('x'));
    f.keep('c1', post(start), 307, landing, new ArrayBuffer(0));
    f.keep('c1', post(start), 307, landing, new Uint8Array(REDIRECT_BODY_MAX_BYTES + 1));
    const none = post(landing);
    expect(await f.restore(none, 'c1')).toBe(none);
    f.keep('c1', post(start), 307, landing, new Uint8Array(REDIRECT_BODY_MAX_BYTES));
    expect((await (await f.restore(post(landing), 'c1')).arrayBuffer()).byteLength).toBe(REDIRECT_BODY_MAX_BYTES);
  });

  it('forgets a body after REDIRECT_FOLLOW_UP_MEMORY_MS and beyond MAX_REDIRECT_FOLLOW_UPS (the oldest first)', async () => {
    let now = 0;
    const f = new RedirectFollowUps(false, () => now);
    f.keep('c1', post(start, 'a'), 307, landing, bytes('a'));
    now = REDIRECT_FOLLOW_UP_MEMORY_MS + 1;
    const late = post(landing);
    expect(await f.restore(late, 'c1')).toBe(late);

    for (let i = 0; i <= MAX_REDIRECT_FOLLOW_UPS; i++) f.keep('c1', post(start, 'b'), 307, `${landing}&n=${i}`, bytes(`b${i}`));
    const first = post(`${landing}&n=0`);
    expect(await f.restore(first, 'c1')).toBe(first);
    expect(await (await f.restore(post(`${landing}&n=${MAX_REDIRECT_FOLLOW_UPS}`), 'c1')).text()).toBe(`b${MAX_REDIRECT_FOLLOW_UPS}`);
  });

  it('in WebKit, marks the GET follow-up of a redirect that turned a request into GET with the Origin WebKit writes on it, once', async () => {
    const f = new RedirectFollowUps(true);
    f.keep('c1', post(start, 'dropped'), 303, landing, bytes('dropped'));
    const followUp = new Request(landing);
    expect(await f.restore(followUp, 'c1')).toBe(followUp);
    expect(f.originOf(followUp)).toBe(origin);
    const again = new Request(landing);
    await f.restore(again, 'c1');
    expect(f.originOf(again)).toBeUndefined();

    // 301/302 turn a POST into GET; a GET's redirect changes nothing (it had no Origin).
    f.keep('c1', post(start), 302, landing, null);
    const after302 = new Request(landing);
    await f.restore(after302, 'c1');
    expect(f.originOf(after302)).toBe(origin);
    f.keep('c1', new Request(start), 302, landing, null);
    f.keep('c1', new Request(start), 303, landing, null);
    const afterGet = new Request(landing);
    await f.restore(afterGet, 'c1');
    expect(f.originOf(afterGet)).toBeUndefined();
  });

  it('outside WebKit keeps no Origin (Chromium and Firefox write none on that follow-up)', async () => {
    const f = new RedirectFollowUps(false);
    f.keep('c1', post(start, 'dropped'), 303, landing, bytes('dropped'));
    const followUp = new Request(landing);
    await f.restore(followUp, 'c1');
    expect(f.originOf(followUp)).toBeUndefined();
  });

  it('tells WebKit from Chromium and Firefox by the user agent', () => {
    expect(isWebKit('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/60.5 Safari/605.1.15')).toBe(true);
    expect(
      isWebKit('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0 Mobile/15E148 Safari/604.1'),
    ).toBe(true);
    expect(isWebKit('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36')).toBe(false);
    expect(isWebKit('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe(false);
  });
});
