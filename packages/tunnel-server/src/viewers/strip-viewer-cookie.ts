/** The viewer cookie never reaches the developer's app: removed from a request's `Cookie` (in place) before anything relays it. */
import type { IncomingMessage } from 'node:http';
import { withoutCookie } from '../access/viewer-access';
import { VIEWER_COOKIE } from './viewer-cookie';

export function stripViewerCookie(req: IncomingMessage): void {
  if (req.headers.cookie === undefined || !req.headers.cookie.includes(VIEWER_COOKIE)) return;
  const raw = req.rawHeaders;
  const out: string[] = [];
  const cookies: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    let value = raw[i + 1]!;
    if (name.toLowerCase() === 'cookie') {
      const rest = withoutCookie(value, VIEWER_COOKIE);
      if (rest === undefined) continue;
      cookies.push((value = rest));
    }
    out.push(name, value);
  }
  req.rawHeaders = out;
  // req.headers was derived from rawHeaders once already: keep it in step.
  if (cookies.length > 0) req.headers.cookie = cookies.join('; ');
  else delete req.headers.cookie;
}
