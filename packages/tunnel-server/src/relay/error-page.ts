/** What a viewer sees when a relayed exchange fails before the response head: a status chosen from the stream's error code, and a readable page. */
import type { ErrorCode } from '@wingman/protocol';
import type { PageOptions } from '../http/pages';

/** HTTP status for a stream or open() failure, by protocol error code; any other code is a 502. */
const STATUS_BY_CODE: Partial<Record<ErrorCode | 'ERR_OVERLOADED', number>> = {
  ERR_TOO_MANY_STREAMS: 503,
  ERR_OVERLOADED: 503,
  ERR_UPSTREAM_TIMEOUT: 504,
  ERR_HEADER_TOO_LARGE: 431,
  ERR_TOO_MANY_HEADERS: 431,
};

export function statusForCode(code: ErrorCode | string): number {
  return STATUS_BY_CODE[code as ErrorCode] ?? 502;
}

const EXPLANATIONS: Partial<Record<ErrorCode | 'ERR_OVERLOADED', string>> = {
  ERR_OVERLOADED: 'The tunnel server holds as much unread data for viewers as it allows; this request was among the largest waiting. Try again in a moment.',
  ERR_TOO_MANY_STREAMS: 'The developer’s Wingman agent is handling as many requests as it accepts at once. Try again in a moment.',
  ERR_UPSTREAM_TIMEOUT: 'The developer’s local app took too long to answer.',
  ERR_UPSTREAM_UNREACHABLE: 'The developer’s local app did not accept the connection: is it running on the port given to `wingman http`?',
  ERR_UPSTREAM_ERROR: 'The developer’s local app failed while answering this request.',
  ERR_HEADER_TOO_LARGE: 'The request headers (or URL) are too large to relay.',
  ERR_TOO_MANY_HEADERS: 'The request carries too many header fields to relay.',
  ERR_CONNECTION_LOST: 'The developer’s Wingman agent disconnected while this request was in flight.',
  ERR_GOING_AWAY: 'The developer’s Wingman agent is disconnecting.',
};

/** A relayed stream's failure (its protocol code), or the server's own refusal to hold more (ERR_OVERLOADED). */
export function relayErrorPage(code: ErrorCode | 'ERR_OVERLOADED'): PageOptions {
  const status = statusForCode(code);
  return {
    status,
    title: status === 431 ? 'Request headers too large' : status === 504 ? 'The local app timed out' : 'The local app could not answer',
    message: EXPLANATIONS[code] ?? 'The request could not be relayed to the developer’s machine.',
    code,
    relayed: true,
  };
}
