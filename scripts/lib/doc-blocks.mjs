/**
 * The command blocks of docs/deploy.md as a user types them: every ```sh
 * block is marked with what it is (`<!-- doc-test: shell|server|agent -->`
 * on the line before it), so the tests that run the doc (the deploy doc
 * test, the Caddy lab) run exactly its text, and an unmarked block fails
 * them rather than drift untested.
 */

/** The roles a block can have: run to its end, a server to start, the agent to start. */
export const DOC_BLOCK_ROLES = ['shell', 'server', 'agent'];

/**
 * @param {string} markdown
 * @param {string} [file] named in errors
 * @returns {Array<{ role: 'shell' | 'server' | 'agent', text: string }>}
 */
export function docBlocks(markdown, file = 'docs/deploy.md') {
  const blocks = [];
  const fence = /^(<!-- doc-test: (\w+) -->\n)?```sh\n([\s\S]*?)\n```$/gm;
  for (const m of markdown.matchAll(fence)) {
    if (!m[2]) throw new Error(`${file}: a \`\`\`sh block without a doc-test marker:\n${m[3]}`);
    if (!DOC_BLOCK_ROLES.includes(m[2])) throw new Error(`${file}: unknown doc-test role "${m[2]}"`);
    blocks.push({ role: m[2], text: m[3] });
  }
  return blocks;
}
