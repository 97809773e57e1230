/**
 * The priority class a request asks for over P2P (docs/PROTOCOL.md
 * §Priority): the agent sends the answers' frames on the viewer's connection
 * most urgent class first, so a page's document, then its styles and
 * scripts, overtake a download already under way. Decided from what the
 * browser tells the Service Worker about the request; a request the SW
 * treats as bulk (path-choice.ts: a large or ranged body, or a bulk file
 * type) is bulk whatever asked for it.
 */
import type { PriorityClass } from '@wingman/protocol';

const SCRIPT_LIKE = new Set(['script', 'style', 'worker', 'sharedworker', 'serviceworker', 'audioworklet', 'paintworklet', 'xslt']);
const MEDIA = new Set(['image', 'audio', 'video', 'track', 'font', 'object', 'embed']);

export function requestPriority(request: Pick<Request, 'mode' | 'destination'>, bulk: boolean): PriorityClass {
  if (bulk) return 'bulk';
  if (request.mode === 'navigate' || request.destination === 'document' || request.destination === 'iframe' || request.destination === 'frame')
    return 'document';
  if (SCRIPT_LIKE.has(request.destination)) return 'script';
  if (MEDIA.has(request.destination)) return 'media';
  return 'fetch';
}
