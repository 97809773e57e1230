/** The HTTP/1.1 response heads upgrade handlers write, as HTTP/2 responses to an extended CONNECT (RFC 8441 §5). */
import { http2ResponseFor, parseResponseHead } from '../../src/http/h2-websocket';

describe('an upgrade response head as an HTTP/2 response', () => {
  it("turns ws's 101 into 200 without the accept key or the connection fields, keeping the subprotocol", () => {
    const head = parseResponseHead(
      ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: abc=', 'Sec-WebSocket-Protocol: chat'].join(
        '\r\n',
      ),
    );
    expect(head).toEqual({
      status: 101,
      headers: [
        ['upgrade', 'websocket'],
        ['connection', 'Upgrade'],
        ['sec-websocket-accept', 'abc='],
        ['sec-websocket-protocol', 'chat'],
      ],
    });
    expect(http2ResponseFor(head!)).toEqual({ status: 200, headers: { 'sec-websocket-protocol': 'chat' } });
  });

  it("keeps a refusal's status and fields, repeated fields as a list", () => {
    const head = parseResponseHead(
      'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nset-cookie: a=1\r\nset-cookie: b=2\r\ncontent-length: 5\r\nconnection: close',
    );
    expect(http2ResponseFor(head!)).toEqual({ status: 403, headers: { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'content-length': '5' } });
  });

  it('refuses what is not an HTTP/1.x status line and fields', () => {
    expect(parseResponseHead('HTTP/2 200')).toBeUndefined();
    expect(parseResponseHead('HTTP/1.1 20 OK')).toBeUndefined();
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nno colon here')).toBeUndefined();
  });
});
