/**
 * A throwaway certificate authority made with the openssl CLI: a CA, and
 * server certificates it signs with chosen serial numbers (so a test can tell
 * which certificate a connection got), and a home directory whose NSS
 * database trusts the CA (what Chromium on Linux reads). Shared by the TLS
 * tests (test/helpers/test-ca.ts) and the network lab (scripts/lab), hence
 * CommonJS: jest requires it as is, the lab's ES modules import it.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** openssl and certutil answer in well under a second; 30 s only guards against a wedged tool. */
const TOOL_TIMEOUT_MS = 30_000;
/** Certificates live for a test run or a lab run: two days is plenty and never outlives them by much. */
const VALID_DAYS = '2';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: TOOL_TIMEOUT_MS });
}

/**
 * @param {{ name?: string }} [options] name: the CA's common name (and its nickname in NSS)
 * @returns {import('./test-ca.cjs').TestCa}
 */
function createTestCa({ name = 'Wingman test CA' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wingman-ca-'));
  // P-256 keys: quick to generate, accepted by Node, Chromium and NSS.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...newKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', `/CN=${name}`, '-days', VALID_DAYS], dir);
  let home = null;
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    caPem: readFileSync(join(dir, 'ca.crt')),
    issue(certName, { serialHex, altNames }) {
      if (!/^[a-z0-9-]+$/i.test(certName) || !/^[0-9a-f]+$/i.test(serialHex)) throw new Error('certificate name: letters, digits, -; serial: hex digits');
      writeFileSync(
        join(dir, `${certName}.ext`),
        [`subjectAltName=${altNames.join(',')}`, 'basicConstraints=CA:FALSE', 'keyUsage=digitalSignature', 'extendedKeyUsage=serverAuth'].join('\n'),
      );
      openssl(['req', ...newKey, '-keyout', `${certName}.key`, '-out', `${certName}.csr`, '-subj', `/CN=${certName}`], dir);
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${certName}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-set_serial',
          `0x${serialHex}`,
          '-days',
          VALID_DAYS,
          '-out',
          `${certName}.crt`,
          '-extfile',
          `${certName}.ext`,
        ],
        dir,
      );
      return { certFile: join(dir, `${certName}.crt`), keyFile: join(dir, `${certName}.key`) };
    },
    nssHome() {
      if (home) return home;
      const h = join(dir, 'home');
      const db = `sql:${join(h, '.pki', 'nssdb')}`;
      mkdirSync(join(h, '.pki', 'nssdb'), { recursive: true });
      execFileSync('certutil', ['-N', '-d', db, '--empty-password'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: TOOL_TIMEOUT_MS });
      execFileSync('certutil', ['-A', '-d', db, '-n', name, '-t', 'C,,', '-i', join(dir, 'ca.crt')], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: TOOL_TIMEOUT_MS,
      });
      home = h;
      return h;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

module.exports = { createTestCa };
