/**
 * WebSockets over HTTP/2 (RFC 8441) on the server's own TLS: the server
 * announces SETTINGS_ENABLE_CONNECT_PROTOCOL, and an extended CONNECT
 * (`:protocol websocket`) reaches the same upgrade handlers an HTTP/1.1
 * Upgrade does — here the session's signaling socket, spoken to with
 * hand-made WebSocket frames by a real node:http2 client. Refusals keep their
 * status; a CONNECT for anything else is refused and the connection carries on.
 */
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { SIGNAL_PATH } from '@wingman/protocol';
import { metricSum } from '../../../../test/helpers/http-client';
import { createFixture } from './helpers/fixture-handler';
import { useH2Viewer } from './helpers/h2-viewer';

jest.setTimeout(30_000);

const WAIT_MS = 10_000;

const h2 = useH2Viewer('7017', createFixture().handler, { p2p: true });

beforeEach(async () => {
  // A client may send `:protocol` only once the server's SETTINGS allowed it.
  let timer: NodeJS.Timeout | undefined;
  const settings = await Promise.race([
    h2.serverSettings,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no SETTINGS from the server')), WAIT_MS))),
  ]).finally(() => clearTimeout(timer));
  expect(settings.enableConnectProtocol).toBe(true);
});

/** Sends `headers` and resolves with the response head and the stream (its body still to come). */
function open(headers: Record<string, string>): Promise<{ head: IncomingHttpHeaders; stream: ClientHttp2Stream }> {
  return new Promise((resolve, reject) => {
    const stream = h2.session.request(headers, { endStream: false });
    const t = setTimeout(() => reject(new Error(`no response head for ${JSON.stringify(headers)}`)), WAIT_MS);
    stream.on('error', () => undefined);
    stream.once('response', (head) => {
      clearTimeout(t);
      resolve({ head, stream });
    });
  });
}

function readAll(stream: ClientHttp2Stream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const t = setTimeout(() => reject(new Error('the stream did not end')), WAIT_MS);
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** One unmasked server frame from the start of `bytes` (payloads < 126 bytes or 16-bit lengths). */
function serverFrame(bytes: Buffer): { opcode: number; payload: Buffer; rest: Buffer } | undefined {
  if (bytes.length < 2) return undefined;
  const opcode = bytes[0]! & 0x0f;
  let length = bytes[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    length = bytes.readUInt16BE(2);
    offset = 4;
  }
  if (bytes.length < offset + length) return undefined;
  return { opcode, payload: bytes.subarray(offset, offset + length), rest: bytes.subarray(offset + length) };
}

/** A masked client close frame with `code`. */
function clientClose(code: number): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, masked]);
}

/** Reads frames until one of `opcode` arrives. */
function nextFrame(stream: ClientHttp2Stream, opcode: number, buffered: { bytes: Buffer }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no frame of opcode ${opcode}`)), WAIT_MS);
    const check = () => {
      for (let f = serverFrame(buffered.bytes); f; f = serverFrame(buffered.bytes)) {
        buffered.bytes = f.rest;
        if (f.opcode === opcode) {
          clearTimeout(t);
          stream.off('data', onData);
          return resolve(f.payload);
        }
      }
    };
    const onData = (c: Buffer) => {
      buffered.bytes = Buffer.concat([buffered.bytes, c]);
      check();
    };
    stream.on('data', onData);
    check();
  });
}

const connectTo = (authority: string, path: string) => ({
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':authority': authority,
  ':path': path,
  'sec-websocket-version': '13',
  origin: `https://${authority}`,
});

it('carries the signaling WebSocket on an extended CONNECT stream: 200, frames both ways, a clean close', async () => {
  const before = await metricSum(h2.server.port, 'wingman_websocket_upgrades_total', 'http="2"', h2.ca.caPem);
  const { head, stream } = await open(connectTo(h2.agent.host, SIGNAL_PATH));
  expect(head[':status']).toBe(200);
  expect(head['sec-websocket-accept']).toBeUndefined();
  expect(head.upgrade).toBeUndefined();
  const buffered = { bytes: Buffer.alloc(0) };
  const hello = JSON.parse((await nextFrame(stream, 0x1, buffered)).toString('utf8')) as { type: string; p2p: { enabled: boolean } };
  expect(hello).toMatchObject({ type: 'hello', p2p: { enabled: true } });
  stream.write(clientClose(1000));
  const close = await nextFrame(stream, 0x8, buffered);
  expect(close.readUInt16BE(0)).toBe(1000);
  await readAll(stream);
  expect(await metricSum(h2.server.port, 'wingman_websocket_upgrades_total', 'http="2"', h2.ca.caPem)).toBe(before + 1);
});

it('answers a refused extended CONNECT with its status and body, on the stream alone', async () => {
  const { head, stream } = await open(connectTo(`nosuchsession.localhost:${h2.server.port}`, SIGNAL_PATH));
  expect(head[':status']).toBe(404);
  expect(head.connection).toBeUndefined();
  expect((await readAll(stream)).toString('utf8')).toMatch(/No Wingman session|not found|unknown/i);
  // The connection carries on.
  const again = await open({ ':method': 'GET', ':path': '/hello', ':authority': h2.agent.host });
  expect(again.head[':status']).toBe(200);
  again.stream.end();
  await readAll(again.stream);
});

it('refuses a CONNECT that is not for a WebSocket with 501, and the connection carries on', async () => {
  const { head, stream } = await open({ ':method': 'CONNECT', ':authority': 'example.localhost:443' });
  expect(head[':status']).toBe(501);
  await readAll(stream);
  const again = await open({ ':method': 'GET', ':path': '/hello', ':authority': h2.agent.host });
  expect(again.head[':status']).toBe(200);
  again.stream.end();
  await readAll(again.stream);
});
