/**
 * A request the Service Worker sends again over the relay after its P2P
 * channel failed reaches the app at most once: each forwarder claims an
 * exchange's id (x-wingman-exchange) in the shared record before forwarding
 * it, and the copy whose claim comes second — relayed or P2P — is answered
 * with a 502 ERR_ALREADY_RECEIVED; an id never claimed is forwarded. The
 * field never reaches the app. Real forwarders, in-memory connections, a
 * real app.
 */
import { EXCHANGE_HEADER, type Connection } from '@wingman/protocol';
import { createExchangeRecord, createForwarder, type ExchangeRecord, type Forwarder } from '../../src/forward';
import { connectedPair } from './helpers/pair';
import { startLocalApp, type LocalApp } from './helpers/local-app';
import { header, send } from './helpers/viewer';

jest.setTimeout(30_000);

let app: LocalApp;
let record: ExchangeRecord;
const cleanups: Array<() => void> = [];

beforeEach(async () => {
  app = await startLocalApp();
  record = createExchangeRecord();
});

afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await app.close();
});

/** A forwarder sharing the record, behind one side of a connection pair, as `transport`; returns the viewer's side. */
function tunnel(transport: 'relay' | 'p2p'): Connection {
  const f: Forwarder = createForwarder({ target: { host: '127.0.0.1', port: app.port }, exchanges: record });
  const pair = connectedPair();
  pair.server.on('stream', (s) => f.handleStream(s, transport, transport === 'p2p' ? 'viewer-1' : undefined));
  cleanups.push(() => {
    pair.close();
    f.close();
  });
  return pair.client;
}

const ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const post = (id: string) => ({
  method: 'POST',
  target: '/echo',
  headers: [
    ['host', 'abc.localhost:8080'],
    [EXCHANGE_HEADER, id],
  ] as Array<[string, string]>,
  body: Buffer.from('order=1'),
});

describe('forwarder: a request sent both over P2P and again over the relay', () => {
  it.each([
    ['relayed copy, when its P2P exchange reached the app', 'p2p', 'relay'],
    ['P2P copy, when the relayed one claimed the id first', 'relay', 'p2p'],
  ] as const)('refuses the %s, with a 502 ERR_ALREADY_RECEIVED', async (_what, first, second) => {
    expect((await send(tunnel(first), post(ID))).status).toBe(200);
    const again = await send(tunnel(second), post(ID));
    expect(again.status).toBe(502);
    expect(header(again.headers, 'x-wingman-error')).toBe('ERR_ALREADY_RECEIVED');
    expect(again.body.toString()).toContain('it was not sent twice');
    expect(app.seen.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('is forwarded when its P2P exchange never reached the app, without the field', async () => {
    const other = 'BBBBBBBBBBBBBBBBBBBBBB';
    await send(tunnel('p2p'), post(ID));
    const r = await send(tunnel('relay'), post(other));
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('order=1');
    expect(app.seen).toHaveLength(2);
    for (const seen of app.seen) expect(seen.headers[EXCHANGE_HEADER]).toBeUndefined();
  });

  it('is forwarded when its id is malformed: only a valid id is claimed', async () => {
    const relay = tunnel('relay');
    expect((await send(relay, post('short'))).status).toBe(200);
    expect((await send(relay, post('short'))).status).toBe(200);
    expect(record.claim(undefined, ID)).toBe(true);
    expect(app.seen).toHaveLength(2);
  });
});
