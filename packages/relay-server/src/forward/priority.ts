/**
 * The priority class of a response stream (docs/PROTOCOL.md §Priority): the
 * class the request asks for (PRIORITY_HEADER, written by the browser's
 * Service Worker) over P2P, where the connection is the viewer's own and the
 * class only orders that viewer's streams among themselves; the default on
 * the relay, where one connection carries every viewer's streams and a class
 * one viewer picked would order other viewers' downloads behind its own.
 */
import { DEFAULT_PRIORITY, requestedPriority, type HeaderList, type PriorityClass } from '@wingman/protocol';
import type { TransportName } from './headers';

export function responsePriority(requestHeaders: HeaderList, transport: TransportName): PriorityClass {
  return transport === 'p2p' ? requestedPriority(requestHeaders) : DEFAULT_PRIORITY;
}
