import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTarget, resolveTarget } from '../../src/cli/target-option';
import { UsageError } from '../../src/cli/usage-error';
import { createTestCa, type TestCa } from '../../../../test/helpers/test-ca';

let dir: string;
let ca: TestCa;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wingman-target-option-'));
  ca = createTestCa({ name: 'wingman target option test CA' });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  ca.remove();
});

/** The UsageError resolveTarget throws, as its message. */
function refusal(text: string, flags: Parameters<typeof resolveTarget>[1]): string {
  try {
    resolveTarget(text, flags);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`resolveTarget(${JSON.stringify(text)}) did not refuse`);
}

describe('the target of wingman http', () => {
  it('takes a port, host:port, or an http(s) URL, the port defaulting to the scheme’s', () => {
    expect(parseTarget('3000')).toEqual({ host: 'localhost', port: 3000 });
    expect(parseTarget('http://127.0.0.1:5173/')).toEqual({ host: '127.0.0.1', port: 5173 });
    expect(parseTarget('https://localhost:8443')).toEqual({ host: 'localhost', port: 8443, scheme: 'https' });
    expect(parseTarget('HTTPS://[::1]:8443')).toEqual({ host: '::1', port: 8443, scheme: 'https' });
    expect(parseTarget('https://localhost')).toEqual({ host: 'localhost', port: 443, scheme: 'https' });
    for (const bad of ['localhost', 'https://localhost:8443/app', 'ftp://localhost:21', 'https://user@localhost:8443', 'https://localhost:0']) {
      expect(() => parseTarget(bad)).toThrow(UsageError);
    }
  });

  it('reads --target-ca as PEM certificates, and refuses a file that holds none or a broken one', () => {
    expect(resolveTarget('https://localhost:8443', { targetCa: ca.caFile }).ca).toContain('-----BEGIN CERTIFICATE-----');
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, 'not a certificate\n');
    expect(refusal('https://localhost:8443', { targetCa: empty })).toMatch(/no PEM certificate/);
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(refusal('https://localhost:8443', { targetCa: broken })).toMatch(/does not parse/);
    expect(refusal('https://localhost:8443', { targetCa: join(dir, 'missing.pem') })).toMatch(/cannot read --target-ca .*ENOENT/);
  });

  it('takes --target-insecure only for a loopback https target, and the TLS flags only for an https one', () => {
    expect(resolveTarget('https://127.0.0.1:8443', { targetInsecure: true })).toEqual({ host: '127.0.0.1', port: 8443, scheme: 'https', insecure: true });
    expect(refusal('https://app.example.test:8443', { targetInsecure: true })).toMatch(/--target-insecure only for a loopback target/);
    expect(refusal('3000', { targetCa: ca.caFile })).toMatch(/--target-ca is for an https target/);
    expect(refusal('http://localhost:3000', { targetInsecure: true })).toMatch(/--target-insecure is for an https target/);
    expect(refusal('https://localhost:8443', { targetInsecure: true, targetCa: ca.caFile })).toMatch(/not both/);
  });
});
