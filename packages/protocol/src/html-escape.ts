/**
 * Text into HTML: the one escape of Wingman's own pages (the tunnel server's,
 * the agent's error pages, the Service Worker's). Every character that could
 * open markup, end an attribute value or start an entity becomes a numeric
 * reference, so the result is safe in element content and in quoted
 * attribute values alike.
 */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
