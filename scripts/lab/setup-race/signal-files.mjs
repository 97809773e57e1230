/**
 * The set-up race's signaling (setup-race/index.mjs): one file per message
 * in a directory both namespaces see, `<from>-<trial>-<seq>.json` holding
 * { at, msg } (`at`: Date.now() when it was sent; the namespaces share the
 * clock). A reader takes a message only once `at + delayMs` has passed: the
 * one-way time of the signaling path through the tunnel server that the
 * scenario configures (reviewer → server → dev), so the race pays the same
 * signaling delays as Wingman without running its server.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `value` as JSON to `file` atomically: a reader polling for it never sees half of it. */
export function writeJsonFile(file, value) {
  writeFileSync(`${file}.tmp`, JSON.stringify(value));
  renameSync(`${file}.tmp`, file);
}

/** Writes one message. */
export function writeMessage(dir, from, trial, seq, msg) {
  writeJsonFile(join(dir, `${from}-${trial}-${seq}.json`), { at: Date.now(), msg });
}

/**
 * A reader of `from`'s messages of one trial, in order: next() returns the
 * next message whose delay has passed, else undefined.
 */
export function messageReader(dir, from, trial, delayMs) {
  let seq = 0;
  return {
    next() {
      const file = join(dir, `${from}-${trial}-${seq}.json`);
      if (!existsSync(file)) return undefined;
      const { at, msg } = JSON.parse(readFileSync(file, 'utf8'));
      if (Date.now() < at + delayMs) return undefined;
      seq++;
      return msg;
    },
  };
}
