/**
 * The link key on the shell's side (docs/PROTOCOL.md §Verified channels), taken out of the link's fragment
 * (`#k=…`) before anything else runs: kept in sessionStorage (a reload keeps it), removed from the visible URL,
 * so neither the address bar nor the app's frame has it. A link without a key leaves the shell unverified.
 */
import { linkKeyBytes, splitLinkKey } from '@wingman/protocol';
import { quietly } from '../shared/quietly';

const LINK_KEY_STORAGE_ITEM = 'wingman-link-key';

function stored(): string | undefined {
  // Undefined where storage is disabled.
  const v = quietly(() => sessionStorage.getItem(LINK_KEY_STORAGE_ITEM));
  return v != null && linkKeyBytes(v) ? v : undefined;
}

/** Takes the key from the fragment (stored, and stripped from the URL), else the one this tab stored earlier. */
export function takeLinkKey(): string | undefined {
  const { key, rest } = splitLinkKey(location.hash);
  if (key === undefined) return stored();
  // Storage disabled: the key lives as long as this document.
  quietly(() => sessionStorage.setItem(LINK_KEY_STORAGE_ITEM, key));
  history.replaceState(history.state, '', location.pathname + location.search + rest);
  return key;
}
