/**
 * What the app's own framing and script policies must allow for the session's shell (the app's own origin) to show the
 * app in its frame and run the shim there — and nothing more: `X-Frame-Options: DENY` becomes `SAMEORIGIN` and
 * `frame-ancestors` gains `'self'`; a CSP that restricts scripts admits the shim by its own nonce, by one of ours under
 * `'strict-dynamic'` (which ignores host sources), else by the shim's exact URL (no other script allowed,
 * `'unsafe-inline'` kept working). Report-only policies are left alone: they block nothing.
 * @see https://www.w3.org/TR/CSP3/#directive-frame-ancestors
 * @see https://www.w3.org/TR/CSP3/#strict-dynamic-usage
 */
import type { WireHeaders } from '../shared/messages';

interface FramePolicy {
  headers: WireHeaders;
  /** The nonce the shim's <script> must carry; undefined when none is needed. */
  shimNonce: string | undefined;
}

const NONCE = /^'nonce-([A-Za-z0-9+/_=-]+)'$/;

/** One directive: its name (lower case) and its source list. */
type Directive = { name: string; sources: string[] };

function parsePolicy(policy: string): Directive[] {
  const out: Directive[] = [];
  for (const part of policy.split(';')) {
    const tokens = part.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) continue;
    out.push({ name: tokens[0]!.toLowerCase(), sources: tokens.slice(1) });
  }
  return out;
}

const serialize = (directives: Directive[]) => directives.map((d) => [d.name, ...d.sources].join(' ')).join('; ');
const has = (sources: string[], keyword: string) => sources.some((s) => s.toLowerCase() === keyword);

function allowShellAncestor(directives: Directive[]): void {
  const d = directives.find((x) => x.name === 'frame-ancestors');
  if (!d) return;
  if (has(d.sources, "'none'")) d.sources = ["'self'"];
  else if (!has(d.sources, "'self'") && !d.sources.includes('*')) d.sources.push("'self'");
}

/** Admits the shim under one policy; `nonce` is the one the tag will carry (the first policy's own, else ours). Returns whether the tag needs it. */
function admitShim(directives: Directive[], shimUrl: string, nonce: string): boolean {
  // The list that governs a <script src> (CSP3 §6.8.1: script-src-elem, then script-src, then default-src).
  const governing = ['script-src-elem', 'script-src', 'default-src'].map((n) => directives.find((d) => d.name === n)).find(Boolean);
  if (!governing) return false;
  const sources = governing.sources;
  if (sources.some((s) => NONCE.exec(s)?.[1] === nonce)) return true;
  const strict = has(sources, "'strict-dynamic'");
  const hasNonce = sources.some((s) => NONCE.test(s));
  if (strict || hasNonce) {
    if (has(sources, "'none'")) governing.sources = sources.filter((s) => s.toLowerCase() !== "'none'");
    governing.sources.push(`'nonce-${nonce}'`);
    return true;
  }
  if (has(sources, "'self'") || sources.includes('*')) return false;
  const add = (list: string[]) => [...list.filter((s) => s.toLowerCase() !== "'none'"), shimUrl];
  // default-src governs far more than scripts: the shim's URL goes in a script-src-elem of its own.
  if (governing.name === 'default-src') directives.push({ name: 'script-src-elem', sources: add(sources) });
  else governing.sources = add(sources);
  return false;
}

/** A nonce of our own: 128 random bits, base64. */
function freshNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/** The headers of a document for the shell's frame. `shimUrl`: the shim's absolute URL; `injecting`: the shim goes into this document (HTML). */
export function framePolicy(headers: WireHeaders, shimUrl: string, injecting: boolean): FramePolicy {
  const policies = headers.filter(([n]) => n === 'content-security-policy').flatMap(([, v]) => v.split(','));
  const ownNonce = policies
    .flatMap((p) => parsePolicy(p))
    .flatMap((d) => (d.name === 'script-src-elem' || d.name === 'script-src' || d.name === 'default-src' ? d.sources : []))
    .map((s) => NONCE.exec(s)?.[1])
    .find((x) => x !== undefined);
  const nonce = ownNonce ?? freshNonce();
  let nonceNeeded = false;
  const rewritten: string[] = [];
  for (const policy of policies) {
    const directives = parsePolicy(policy);
    allowShellAncestor(directives);
    if (injecting && admitShim(directives, shimUrl, nonce)) nonceNeeded = true;
    rewritten.push(serialize(directives));
  }
  const out: WireHeaders = [];
  let cspWritten = false;
  for (const [name, value] of headers) {
    if (name === 'content-security-policy') {
      // Every policy of every CSP field, in order, as one field: a browser enforces each either way.
      if (!cspWritten && rewritten.length > 0) out.push([name, rewritten.join(', ')]);
      cspWritten = true;
    } else if (name === 'x-frame-options') {
      out.push([name, value.trim().toLowerCase() === 'deny' ? 'SAMEORIGIN' : value]);
    } else {
      out.push([name, value]);
    }
  }
  return { headers: out, shimNonce: nonceNeeded ? nonce : undefined };
}

/** Whether a frame document's headers need framePolicy (it would refuse the shell or the shim otherwise). */
export function needsFramePolicy(headers: Headers): boolean {
  return headers.has('x-frame-options') || headers.has('content-security-policy');
}
