/**
 * Edits a request's header fields in place, before anything relays it (the access gate's credentials, Wingman's own
 * cookies and the viewer tag): rawHeaders, which the relay reads, and req.headers, which Node derived from them once
 * already and which the server's checks read, are kept in step.
 */
import type { IncomingMessage } from 'node:http';

/**
 * `edit` gets each field (lower-case name, value) and returns the value to keep, undefined to drop the field; `added`
 * fields go last. req.headers is rebuilt for the names in `synced`: `cookie` joins its values with '; ', another name
 * keeps its first value; a name left without one is deleted.
 */
export function rewriteHeaders(
  req: IncomingMessage,
  synced: readonly string[],
  edit: (name: string, value: string) => string | undefined,
  added: ReadonlyArray<[string, string]> = [],
): void {
  const raw: string[] = [];
  const kept = new Map<string, string[]>();
  const keep = (name: string, lower: string, value: string) => {
    raw.push(name, value);
    if (synced.includes(lower)) kept.set(lower, [...(kept.get(lower) ?? []), value]);
  };
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = edit(name.toLowerCase(), req.rawHeaders[i + 1]!);
    if (value !== undefined) keep(name, name.toLowerCase(), value);
  }
  for (const [name, value] of added) keep(name, name, value);
  req.rawHeaders = raw;
  for (const name of synced) {
    const values = kept.get(name);
    if (values === undefined) delete req.headers[name];
    else req.headers[name] = name === 'cookie' ? values.join('; ') : values[0];
  }
}
