/**
 * A throwaway certificate authority for TLS tests, made with the openssl CLI:
 * a CA, and server certificates it signs with chosen serial numbers, so a test
 * can tell which certificate a connection got.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  /** PEM file of the CA certificate (for NODE_EXTRA_CA_CERTS, an NSS db, `ca:`). */
  caFile: string;
  caPem: Buffer;
  /** Issues a server certificate; returns its PEM files. `serialHex` is what getPeerCertificate().serialNumber shows. */
  issue(name: string, options: { serialHex: string; altNames: string[] }): { certFile: string; keyFile: string };
  /**
   * A home directory whose NSS database (`.pki/nssdb`, certutil from
   * libnss3-tools) trusts this CA for TLS servers: Chromium on Linux started
   * with HOME set to it trusts the CA's certificates like a public one.
   */
  nssHome(): string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

export function createTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'wingman-ca-'));
  // P-256 keys: quick to generate, accepted by Node, Chromium and NSS.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...newKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=Wingman test CA', '-days', '2'], dir);
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    caPem: readFileSync(join(dir, 'ca.crt')),
    issue(name, { serialHex, altNames }) {
      writeFileSync(
        join(dir, `${name}.ext`),
        [`subjectAltName=${altNames.join(',')}`, 'basicConstraints=CA:FALSE', 'keyUsage=digitalSignature', 'extendedKeyUsage=serverAuth'].join('\n'),
      );
      openssl(['req', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${serialHex}`, '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`], dir);
      return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
    },
    nssHome() {
      const home = join(dir, 'home');
      const db = `sql:${join(home, '.pki', 'nssdb')}`;
      mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
      execFileSync('certutil', ['-N', '-d', db, '--empty-password'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
      execFileSync('certutil', ['-A', '-d', db, '-n', 'Wingman test CA', '-t', 'C,,', '-i', join(dir, 'ca.crt')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
      return home;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
