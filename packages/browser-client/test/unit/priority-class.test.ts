/**
 * The priority class the Service Worker asks for per request
 * (src/sw/priority-class.ts), one row per kind of request.
 */
import type { PriorityClass } from '@wingman/protocol';
import { requestPriority } from '../../src/sw/priority-class';

const rows: Array<[mode: RequestMode, destination: RequestDestination, bulk: boolean, cls: PriorityClass]> = [
  ['navigate', 'iframe', false, 'document'],
  ['navigate', 'document', false, 'document'],
  ['cors', 'script', false, 'script'],
  ['no-cors', 'style', false, 'script'],
  ['same-origin', 'worker', false, 'script'],
  ['cors', '', false, 'fetch'],
  ['cors', 'manifest', false, 'fetch'],
  ['no-cors', 'image', false, 'media'],
  ['cors', 'font', false, 'media'],
  ['no-cors', 'video', false, 'media'],
  // What the SW treats as bulk is bulk, whatever asked for it.
  ['no-cors', 'video', true, 'bulk'],
  ['cors', '', true, 'bulk'],
  ['navigate', 'iframe', true, 'bulk'],
];

describe('requestPriority', () => {
  it.each(rows)('mode %s, destination "%s", bulk %s → %s', (mode, destination, bulk, cls) => {
    expect(requestPriority({ mode, destination }, bulk)).toBe(cls);
  });
});
