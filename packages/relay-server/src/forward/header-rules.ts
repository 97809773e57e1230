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

const VALUE_PROBLEM = `a header value is at most ${MAX_HEADER_RULE_VALUE_CHARS} visible characters, without line breaks or leading or trailing spaces`;

/**
 * One direction's edits as the config file writes them, `{ "remove": [name], "set": { name: value }, "add": { name: value } }`,
 * checked into HeaderEdits (names in lower case); an issue's path names the field (`set.X-Foo`).
 */
export function headerEditsInput(direction: 'request' | 'response') {
  const refusal = (raw: string): string | undefined => {
    const name = raw.toLowerCase();
    if (!TOKEN.test(name)) return `"${raw}" is not a header name`;
    const why = ownedBy(name, direction);
    return why && `${name} cannot be changed by a rule: ${why}`;
  };
  const fields = z
    .record(z.string(), z.string())
    .superRefine((o, ctx) => {
      for (const [n, v] of Object.entries(o)) {
        const problem = refusal(n) ?? (v.length > MAX_HEADER_RULE_VALUE_CHARS || !FIELD_VALUE.test(v) ? VALUE_PROBLEM : undefined);
        if (problem) return void ctx.addIssue({ code: z.ZodIssueCode.custom, path: [n], message: problem });
      }
    })
    .transform((o) => Object.entries(o).map(([n, v]): [string, string] => [n.toLowerCase(), v]));
  const names = z
    .array(z.string())
    .superRefine((list, ctx) => {
      const problem = list.map(refusal).find((p) => p !== undefined);
      if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    })
    .transform((list) => list.map((n) => n.toLowerCase()));
  return z
    .object({ remove: names.optional(), set: fields.optional(), add: fields.optional() })
    .strict()
    .transform(({ remove = [], set = [], add = [] }, ctx): HeaderEdits => {
      if (remove.length + set.length + add.length <= MAX_HEADER_EDITS) return { remove, set, add };
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `at most ${MAX_HEADER_EDITS} edits` });
      return z.NEVER;
    });
}

/** `headers` with `edits` applied: removals, then sets (replacing every field of the name), then additions. */
export function applyHeaderEdits(headers: HeaderList, edits: HeaderEdits | undefined): HeaderList {
  if (!edits) return headers;
  const replaced = new Set([...edits.remove, ...edits.set.map(([n]) => n)]);
  return [...headers.filter(([n]) => !replaced.has(n)), ...edits.set, ...edits.add];
}
