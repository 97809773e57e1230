/**
 * The link key on the shell's side (docs/PROTOCOL.md §Verified channels), taken out of the link's fragment
 * (`#k=…`) before anything else runs: kept in sessionStorage (a reload keeps it), removed from the visible URL,
 * so neither the address bar nor the app's frame has it. A link without a key leaves the shell unverified.
 */
import { linkKeyBytes, splitLinkKey } from '@wingman/protocol';

/** sessionStorage item of the link key. */
const LINK_KEY_STORAGE_ITEM = 'wingman-link-key';

function stored(): string | undefined {
  try {
    const v = sessionStorage.getItem(LINK_KEY_STORAGE_ITEM);
    return v !== null && linkKeyBytes(v) ? v : undefined;
  } catch {
    return undefined; // storage disabled
  }
}

/** Takes the key from the fragment (stored, and stripped from the URL), else the one this tab stored earlier. */
export function takeLinkKey(): string | undefined {
  const { key, rest } = splitLinkKey(location.hash);
  if (key === undefined) return stored();
  try {
    sessionStorage.setItem(LINK_KEY_STORAGE_ITEM, key);
  } catch {
    /* storage disabled: the key lives as long as this document */
  }
  history.replaceState(history.state, '', location.pathname + location.search + rest);
  return key;
}
