/**
 * The server's own TLS (`--tls-cert` / `--tls-key`): reads the PEM files and re-reads them when they change, so a
 * renewed certificate serves new handshakes without a restart (open connections keep going). Renewal tools write in
 * more than one step, so changes are read after a short quiet time, and a pair that does not load is logged and
 * skipped: the previous certificate stays in force.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import { ConfigError } from '../config';
import type { Logger } from '../logger';

/**
 * Quiet time after the last change before the files are re-read, ms: long enough to see a certificate and its key
 * replaced one after the other, short enough that a renewal is live at once.
 */
const TLS_RELOAD_DEBOUNCE_MS = 200;

interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** Reads and checks the pair (the key must match the certificate). Throws ConfigError naming the file and the reason. */
export function loadTlsPair(certFile: string, keyFile: string): TlsPair {
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const pair = { cert: read(certFile, '--tls-cert / TLS_CERT_FILE'), key: read(keyFile, '--tls-key / TLS_KEY_FILE') };
  try {
    createSecureContext(pair);
  } catch (err) {
    throw new ConfigError(
      `--tls-cert / --tls-key: ${certFile} and ${keyFile} do not load as a PEM certificate and its private key (${(err as Error).message})`,
    );
  }
  return pair;
}

/**
 * Watches the directories of both files (a file watch would lose a file that is replaced by rename or by a symlink
 * swap), re-reads the pair on any change there, and installs each new, valid pair on `server`.
 */
export function watchTlsPair(options: { server: TlsServer; certFile: string; keyFile: string; current: TlsPair; logger: Logger }): { close(): void } {
  const { server, certFile, keyFile, logger } = options;
  let current = options.current;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reload = () => {
    timer = undefined;
    let next: TlsPair;
    try {
      next = loadTlsPair(certFile, keyFile);
    } catch (err) {
      logger.warn({ certFile, keyFile, reason: (err as Error).message }, 'TLS files changed but do not load; still serving the previous certificate');
      return;
    }
    if (next.cert.equals(current.cert) && next.key.equals(current.key)) return;
    server.setSecureContext(next);
    current = next;
    logger.info({ certFile }, 'TLS certificate reloaded: new connections get it, open ones keep theirs');
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(resolve(certFile)), dirname(resolve(keyFile))])) {
    try {
      // Any change in the directory, not only to the files' names: a Kubernetes secret volume swaps its `..data`
      // symlink while tls.crt (a link through it) never changes itself. reload() skips a pair that did not change.
      const w = watch(dir, { persistent: false }, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(reload, TLS_RELOAD_DEBOUNCE_MS);
      });
      w.on('error', (err) => logger.warn({ err, dir }, 'watching the TLS files failed; a renewed certificate needs a restart'));
      watchers.push(w);
    } catch (err) {
      logger.warn({ err, dir }, 'cannot watch the TLS files; a renewed certificate needs a restart');
    }
  }
  return {
    close() {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
