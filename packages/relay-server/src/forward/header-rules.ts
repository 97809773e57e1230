/**
 * A tunnel's header rules (`policy.requestHeaders` / `responseHeaders`):
 * fields removed, set and added, in that order, on requests after the
 * forwarder's own rules and on responses before Wingman's transport fields,
 * over the relay and P2P, so the inspector shows what each side got. Fields the
 * tunnel owns are refused: hop-by-hop, framing, Host on requests, `x-wingman-*`.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.1 (field names are tokens)
 */
import { HOP_BY_HOP_HEADERS, type HeaderList } from '@wingman/protocol';
import { z } from 'zod';

/** Most edits in one direction: a handful is a setup, hundreds are a mistake (and cost on every request). */
export const MAX_HEADER_EDITS = 64;
/** Longest value a rule sets, characters: 8 KiB, well within every server's header limit. */
export const MAX_HEADER_RULE_VALUE_CHARS = 8192;

const headerPair = z.tuple([z.string().min(1).max(256), z.string().max(MAX_HEADER_RULE_VALUE_CHARS)]);
/** One direction's edits, names in lower case. */
const headerEditsSchema = z
  .object({
    remove: z.array(z.string().min(1).max(256)).max(MAX_HEADER_EDITS),
    set: z.array(headerPair).max(MAX_HEADER_EDITS),
    add: z.array(headerPair).max(MAX_HEADER_EDITS),
  })
  .strict();
export const headerRulesSchema = z.object({ request: headerEditsSchema.optional(), response: headerEditsSchema.optional() }).strict();

export type HeaderEdits = z.infer<typeof headerEditsSchema>;
export type HeaderRules = z.infer<typeof headerRulesSchema>;

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]{1,256}$/;
/** Visible ASCII, spaces and tabs inside, as a field value (no CR, LF or NUL: no header injection). */
const FIELD_VALUE = /^[\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?$|^$/;
const TUNNEL_OWNED = new Set([...HOP_BY_HOP_HEADERS, 'content-length', 'transfer-encoding', 'expect']);

function ownedBy(name: string, direction: 'request' | 'response'): string | undefined {
  if (TUNNEL_OWNED.has(name)) return 'it belongs to the connection, which the tunnel frames itself';
  if (name.startsWith('x-wingman-')) return "it is Wingman's own";
  if (direction === 'request' && name === 'host') return 'the tunnel sets it: use hostHeader';
  return undefined;
}

/** The edits of one direction from the config's shape; a problem names the field (`set.X-Foo`). */
export function readHeaderEdits(
  raw: { remove?: string[]; set?: Record<string, string>; add?: Record<string, string> },
  direction: 'request' | 'response',
): HeaderEdits | { problem: string } {
  const name = (n: string, where: string): string | { problem: string } => {
    const lower = n.toLowerCase();
    if (!TOKEN.test(lower)) return { problem: `${where}: "${n}" is not a header name` };
    const why = ownedBy(lower, direction);
    return why ? { problem: `${where}: ${lower} cannot be changed by a rule: ${why}` } : lower;
  };
  const pairs = (o: Record<string, string> | undefined, kind: 'set' | 'add'): Array<[string, string]> | { problem: string } => {
    const out: Array<[string, string]> = [];
    for (const [n, v] of Object.entries(o ?? {})) {
      const lower = name(n, `${kind}.${n}`);
      if (typeof lower !== 'string') return lower;
      if (v.length > MAX_HEADER_RULE_VALUE_CHARS || !FIELD_VALUE.test(v))
        return {
          problem: `${kind}.${n}: a header value is at most ${MAX_HEADER_RULE_VALUE_CHARS} visible characters, without line breaks or leading or trailing spaces`,
        };
      out.push([lower, v]);
    }
    return out;
  };
  const remove: string[] = [];
  for (const n of raw.remove ?? []) {
    const lower = name(n, 'remove');
    if (typeof lower !== 'string') return lower;
    remove.push(lower);
  }
  const set = pairs(raw.set, 'set');
  if (!Array.isArray(set)) return set;
  const add = pairs(raw.add, 'add');
  if (!Array.isArray(add)) return add;
  if (remove.length + set.length + add.length > MAX_HEADER_EDITS) return { problem: `at most ${MAX_HEADER_EDITS} edits` };
  return { remove, set, add };
}

/** `headers` with `edits` applied: removals, then sets (replacing every field of the name), then additions. */
export function applyHeaderEdits(headers: HeaderList, edits: HeaderEdits | undefined): HeaderList {
  if (!edits) return headers;
  const replaced = new Set([...edits.remove, ...edits.set.map(([n]) => n)]);
  return [...headers.filter(([n]) => !replaced.has(n)), ...edits.set, ...edits.add];
}
