/** The link key of a stable name (`--name`), kept per server and name (named sessions save no resume state) so the link stays whole across runs. */
import { join } from 'node:path';
import { generateLinkKey, LINK_KEY_PATTERN } from '@wingman/protocol';
import { z } from 'zod';
import { keyedEntry, readKeyedEntries, writeKeyedEntries } from './state-files';

/** Names kept (most recent first): a developer has a handful of stable links, not hundreds. */
const MAX_NAMED_KEYS = 50;
const FILE = 'link-keys.json';

const entrySchema = keyedEntry({ linkKey: z.string().regex(LINK_KEY_PATTERN) });

/**
 * The key saved for this server and name, else a new one, saved at once.
 * A failed write is told through `onError`; the key then lasts this run only.
 */
export function namedLinkKey(stateDir: string, server: string, name: string, onError: (error: Error) => void): string {
  const file = join(stateDir, FILE);
  const key = `${server}#${name}`;
  // Missing or unreadable: a new key.
  const entries = readKeyedEntries(file, entrySchema);
  const found = entries.find((e) => e.key === key);
  if (found) return found.linkKey;
  const linkKey = generateLinkKey();
  try {
    writeKeyedEntries(file, [{ key, linkKey }, ...entries], MAX_NAMED_KEYS);
  } catch (err) {
    onError(err as Error);
  }
  return linkKey;
}
