/** Whether a request is a browser's navigation, by Fetch Metadata. */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * A top-level or frame navigation of a browser (Sec-Fetch-Mode `navigate`): the one request kind that starts a new
 * browser viewer. With `destinations`, only one whose Sec-Fetch-Dest is among them (`document` top-level, `iframe`).
 */
export function isNavigation(headers: IncomingHttpHeaders, ...destinations: string[]): boolean {
  return headers['sec-fetch-mode'] === 'navigate' && (destinations.length === 0 || destinations.includes(String(headers['sec-fetch-dest'])));
}
