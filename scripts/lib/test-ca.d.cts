/** Types of test-ca.cjs (a throwaway CA for TLS tests and the network lab). */
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
export function createTestCa(options?: { name?: string }): TestCa;
