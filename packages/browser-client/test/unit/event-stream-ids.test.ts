import { EVENT_STREAM_MEMORY_MS, EventStreamIds, LastEventIdParser, MAX_EVENT_STREAMS } from '../../src/sw/event-stream-ids';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('LastEventIdParser: the last event id of an event stream (HTML §9.2.6)', () => {
  const parse = (chunks: string[], start = '') => {
    const p = new LastEventIdParser(start);
    for (const c of chunks) p.push(bytes(c));
    return p.lastId;
  };

  it('takes an id when its event is dispatched, over LF, CRLF and CR line ends and across chunks', () => {
    expect(parse(['id: 1\ndata: a\n\n'])).toBe('1');
    expect(parse(['id: 7\r\ndata: a\r\n\r\n'])).toBe('7');
    expect(parse(['id: 8\rdata: a\r\r'])).toBe('8');
    expect(parse(['i', 'd: 4', '2\r', '\n\r\n'])).toBe('42');
  });

  it('leaves out an event cut off by the end, keeps the starting id without ids, ignores ids with NUL and comments', () => {
    expect(parse(['id: 1\n\nid: 2\ndata: x\n'])).toBe('1');
    expect(parse(['data: x\n\n'], '9')).toBe('9');
    expect(parse(['id: a\0b\n\n'], '3')).toBe('3');
    expect(parse([': id: 5\n\n'], '3')).toBe('3');
    expect(parse(['id:nospace\n\n'])).toBe('nospace');
    expect(parse(['id\n\n'], '3')).toBe('');
  });
});

describe('EventStreamIds: Last-Event-ID on an EventSource reconnection', () => {
  const url = 'http://s.localhost/sse?x=1';
  const esRequest = (headers: Record<string, string> = {}) =>
    new Request(url, { headers: { accept: 'text/event-stream', ...headers }, referrer: 'http://s.localhost/page' });
  const stream = (text: string) => new Response(text, { headers: { 'content-type': 'text/event-stream' } });
  const drain = (r: Response) => r.text();

  it('adds the id of the stream that ended to the same document’s next request for the URL, keeping its referrer', async () => {
    const ids = new EventStreamIds();
    const first = esRequest();
    expect(ids.withLastEventId(first, 'c1')).toBe(first);
    await drain(ids.track(first, 'c1', stream('id: 1\ndata: a\n\nid: 2\ndata: b\n\n')));
    expect(ids.withLastEventId(esRequest(), 'c2').headers.get('last-event-id')).toBeNull();
    const again = ids.withLastEventId(esRequest(), 'c1');
    expect(again.headers.get('last-event-id')).toBe('2');
    expect(again.referrer).toBe('http://s.localhost/page');
    // Used once: a later request is a new EventSource unless another stream ended.
    expect(ids.withLastEventId(esRequest(), 'c1').headers.get('last-event-id')).toBeNull();
  });

  it('keeps the browser’s own Last-Event-ID, and carries it past a stream without ids', async () => {
    const ids = new EventStreamIds();
    const withId = esRequest({ 'last-event-id': '5' });
    expect(ids.withLastEventId(withId, 'c1')).toBe(withId);
    await drain(ids.track(withId, 'c1', stream('data: no id\n\n')));
    expect(ids.withLastEventId(esRequest(), 'c1').headers.get('last-event-id')).toBe('5');
  });

  it('remembers nothing when the page closed the stream, for other requests, or once too old', async () => {
    let now = 0;
    const ids = new EventStreamIds(() => now);
    const r = ids.track(esRequest(), 'c1', stream('id: 1\ndata: a\n\n'));
    await r.body!.cancel();
    expect(ids.withLastEventId(esRequest(), 'c1').headers.get('last-event-id')).toBeNull();
    const plain = new Request(url);
    const json = new Response('{}', { headers: { 'content-type': 'application/json' } });
    expect(ids.track(plain, 'c1', json)).toBe(json);
    await drain(ids.track(esRequest(), 'c1', stream('id: 1\ndata: a\n\n')));
    now += EVENT_STREAM_MEMORY_MS + 1;
    expect(ids.withLastEventId(esRequest(), 'c1').headers.get('last-event-id')).toBeNull();
  });

  it(`remembers at most ${MAX_EVENT_STREAMS} streams, the oldest forgotten first`, async () => {
    const ids = new EventStreamIds();
    for (let i = 0; i <= MAX_EVENT_STREAMS; i++) await drain(ids.track(esRequest(), `c${i}`, stream(`id: ${i}\n\n`)));
    expect(ids.withLastEventId(esRequest(), 'c0').headers.get('last-event-id')).toBeNull();
    expect(ids.withLastEventId(esRequest(), `c${MAX_EVENT_STREAMS}`).headers.get('last-event-id')).toBe(String(MAX_EVENT_STREAMS));
  });
});
