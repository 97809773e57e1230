/**
 * The hello a shell document carries for its own viewer (SHELL_HELLO_ATTRIBUTE
 * on its <html>, docs/PROTOCOL.md §Signaling), read from the document's HTML.
 */
import { SHELL_HELLO_ATTRIBUTE } from '@wingman/protocol';

/** The hello's JSON, unescaped from the attribute; undefined when the document has none. */
export function shellDocumentHello(html: string): { type: string; viewerId: string; p2p: unknown } | undefined {
  const m = new RegExp(`<html[^>]* ${SHELL_HELLO_ATTRIBUTE}="([^"]*)"`).exec(html);
  if (!m) return undefined;
  const text = m[1]!
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  return JSON.parse(text) as { type: string; viewerId: string; p2p: unknown };
}
