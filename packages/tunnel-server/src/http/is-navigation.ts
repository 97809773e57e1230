/** Whether a request is a browser's navigation, by Fetch Metadata. */
import type { IncomingMessage } from 'node:http';

/** A top-level or frame navigation of a browser (Fetch Metadata): the one request kind that starts a new browser viewer. */
export function isNavigation(req: IncomingMessage): boolean {
  return req.headers['sec-fetch-mode'] === 'navigate';
}
