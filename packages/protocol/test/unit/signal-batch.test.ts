/**
 * A signal batch's shape (docs/PROTOCOL.md §Signal batches): the viewer id
 * it is for and 1 … MAX_SIGNAL_BATCH_MESSAGES viewer messages, each checked
 * as on the signaling socket.
 */
import { MAX_SIGNAL_BATCH_BYTES, MAX_SIGNAL_BATCH_MESSAGES, parseSignalBatch, ProtocolError } from '../../src';

const ID = '0123456789abcdef';
const offer = { type: 'offer', sdp: 'v=0' };

function refused(text: string, detail: RegExp): void {
  let caught: unknown;
  try {
    parseSignalBatch(text);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as ProtocolError).message).toMatch(detail);
}

describe('parseSignalBatch', () => {
  it('takes a viewer id and its messages, in order', () => {
    const candidate = { type: 'ice-candidate', candidate: { candidate: 'candidate:1 1 udp 1 192.0.2.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } };
    expect(parseSignalBatch(JSON.stringify({ viewerId: ID, messages: [offer, candidate, { type: 'end-of-candidates', pc: 1 }] }))).toEqual({
      viewerId: ID,
      messages: [offer, candidate, { type: 'end-of-candidates', pc: 1 }],
    });
  });

  it('refuses another viewer id form, an empty or too long list, unknown fields, and an invalid message', () => {
    refused(JSON.stringify({ viewerId: 'ABCDEF0123456789', messages: [offer] }), /viewerId/);
    refused(JSON.stringify({ messages: [offer] }), /viewerId/);
    refused(JSON.stringify({ viewerId: ID, messages: [] }), /1 to 8/);
    refused(JSON.stringify({ viewerId: ID, messages: Array.from({ length: MAX_SIGNAL_BATCH_MESSAGES + 1 }, () => offer) }), /1 to 8/);
    refused(JSON.stringify({ viewerId: ID, messages: [offer], sessionId: 'x' }), /sessionId/);
    refused(JSON.stringify({ viewerId: ID, messages: [{ ...offer, resume: 'short' }] }), /unknown field "resume"/);
    refused(JSON.stringify({ viewerId: ID, messages: [{ type: 'answer', sdp: 'v=0' }] }), /unknown signaling message type/);
  });

  it('refuses a body over MAX_SIGNAL_BATCH_BYTES, and text that is not JSON', () => {
    refused(JSON.stringify({ viewerId: ID, messages: [{ type: 'bye', reason: 'x' }], pad: 'x'.repeat(MAX_SIGNAL_BATCH_BYTES) }), /over 65536 bytes/);
    refused('{not json', /not JSON/);
  });
});
