/**
 * The app's own port on its HTML responses (APP_PORT_HEADER), for the page's
 * shim: a dev server's scripts build URLs from it (Hugo's live reload asks
 * for `ws://<page host>:1313/livereload`), which the reviewer's browser
 * cannot reach; the shim carries them to the session instead.
 */
import { APP_PORT_HEADER, type HeaderList } from '@wingman/protocol';

export function withAppPort(headers: HeaderList, port: number): HeaderList {
  const html = /^\s*text\/html\b/i.test(headers.find(([n]) => n === 'content-type')?.[1] ?? '');
  return html ? [...headers.filter(([n]) => n !== APP_PORT_HEADER), [APP_PORT_HEADER, String(port)]] : headers;
}
