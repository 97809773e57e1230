/**
 * Keys of the terminal view for the session's viewers (docs/cli.md "Terminal
 * view"): selecting is a key of its own so the developer admits the viewer
 * they recognise, not whoever came first. Raw mode turns Ctrl+C into a byte,
 * passed on as SIGINT.
 */
import type { ViewerEntry, ViewerRoster } from '../viewers/viewer-roster';

/** The key help line at the bottom of the screen. */
export const VIEWER_KEY_HELP = 'Keys: 1-9 select a waiting viewer · a admit it · d refuse it · r revoke the newest · R revoke all · Ctrl+C to stop.';
/** Waiting viewers that can be selected by number (keys 1–9); the screen numbers as many. */
export const SELECTABLE_WAITING = 9;

/** What the keys need of stdin (process.stdin is one). */
export interface KeyInput {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: 'data', listener: (data: Buffer | string) => void): unknown;
  off(event: 'data', listener: (data: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

const CTRL_C = '\x03';

const who = (v: ViewerEntry) => `${v.id.slice(0, 8)} (${v.address})`;

/** The selected waiting viewer: `selectedId` while it still waits, else the first in the roster's order. */
export function selectedWaiting(roster: ViewerRoster, selectedId: string | undefined): ViewerEntry | undefined {
  const waiting = roster.waiting();
  return waiting.find((v) => v.id === selectedId) ?? waiting[0];
}

/**
 * Reads keys from `input` until the returned function is called; `say`
 * reports what a key did, `select` is told the id of a newly selected
 * waiting viewer. Does nothing (returns a no-op) off a TTY.
 */
export function attachViewerKeys(
  input: KeyInput,
  roster: ViewerRoster,
  say: (message: string) => void,
  interrupt: () => void,
  select: (id: string) => void = () => undefined,
): () => void {
  if (!input.isTTY || !input.setRawMode) return () => undefined;
  let selectedId: string | undefined;
  const sent = (ok: boolean, what: string) => say(ok ? what : 'not connected to the tunnel server: try again when it is back');
  const onData = (data: Buffer | string) => {
    for (const key of String(data)) {
      if (key === CTRL_C) return interrupt();
      const n = key >= '1' && key <= '9' ? Number(key) : 0;
      if (n > 0 && n <= SELECTABLE_WAITING) {
        const v = roster.waiting()[n - 1];
        if (!v) say(`no waiting viewer ${n}`);
        else {
          selectedId = v.id;
          select(v.id);
          say(`selected waiting viewer ${n}: ${who(v)}`);
        }
      } else if (key === 'a' || key === 'd') {
        const v = selectedWaiting(roster, selectedId);
        if (!v) say('no viewer is waiting');
        else sent(roster.decide(key === 'a' ? 'admit' : 'refuse', v.id), `${key === 'a' ? 'admitting' : 'refusing'} viewer ${who(v)}`);
      } else if (key === 'r') {
        const v = roster.newestAdmitted();
        if (!v) say('no admitted viewer to revoke');
        else sent(roster.decide('refuse', v.id), `revoking viewer ${who(v)}`);
      } else if (key === 'R') {
        sent(roster.refuseAll(), 'revoking every viewer');
      }
    }
  };
  input.setRawMode(true);
  input.on('data', onData);
  input.resume();
  return () => {
    input.off('data', onData);
    input.setRawMode?.(false);
    input.pause();
  };
}
