/**
 * Keys of the terminal view for the session's viewers (docs/cli.md "Terminal
 * view"): `a` admits the viewer that has waited longest, `d` refuses it,
 * `r` revokes the most recently seen admitted viewer, `R` revokes every
 * viewer. The terminal is in raw mode only while the view is on and stdin is
 * a TTY; raw mode turns Ctrl+C into a byte, so it is passed on as SIGINT.
 */
import type { ViewerEntry, ViewerRoster } from '../viewers/viewer-roster';

/** The key help line at the bottom of the screen. */
export const VIEWER_KEY_HELP = 'Keys: a admit · d refuse the oldest waiting viewer · r revoke the newest · R revoke all · Ctrl+C to stop.';

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

/** Reads keys from `input` until the returned function is called; `say` reports what a key did. Does nothing (returns a no-op) off a TTY. */
export function attachViewerKeys(input: KeyInput, roster: ViewerRoster, say: (message: string) => void, interrupt: () => void): () => void {
  if (!input.isTTY || !input.setRawMode) return () => undefined;
  const sent = (ok: boolean, what: string) => say(ok ? what : 'not connected to the tunnel server: try again when it is back');
  const onData = (data: Buffer | string) => {
    for (const key of String(data)) {
      if (key === CTRL_C) return interrupt();
      if (key === 'a' || key === 'd') {
        const v = roster.oldestWaiting();
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
