/**
 * `--allow-email` on the developer's side: the values `wingman http` and a
 * `wingman start` tunnel's `policy.allowEmail` accept (what the banner, the
 * log and `--json` say of signed-in viewers: reporter.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_ALLOWED_EMAILS } from '@wingman/protocol';
import { resolveAllowedEmails } from '../../src/cli/allowed-emails';
import { resolveHttpConfig } from '../../src/cli/options';
import { loadStartConfig } from '../../src/cli/start/config-file';

describe('--allow-email values', () => {
  it('are undefined without the flag, lower-cased and without repeats with it', () => {
    expect(resolveAllowedEmails(undefined)).toBeUndefined();
    expect(resolveAllowedEmails(['Alice@Example.com', '*@example.com', 'alice@example.com'])).toEqual(['alice@example.com', '*@example.com']);
    expect(resolveHttpConfig('3000', { allowEmail: ['*@example.com'] }, {}).allowEmails).toEqual(['*@example.com']);
    expect(resolveHttpConfig('3000', {}, {}).allowEmails).toBeUndefined();
  });

  it('stop wingman with a line saying what to write instead', () => {
    expect(() => resolveAllowedEmails(['example.com'])).toThrow(
      `invalid --allow-email "example.com": expected an email address (alice@example.com) or every address of a domain ('*@example.com')`,
    );
    expect(() => resolveAllowedEmails(['*.example.com'])).toThrow('invalid --allow-email');
    expect(() => resolveAllowedEmails(Array.from({ length: MAX_ALLOWED_EMAILS + 1 }, (_, i) => `u${i}@example.com`))).toThrow('at most 64');
  });

  it("come from a wingman start tunnel's policy.allowEmail, a bad one named by its field", () => {
    const dir = mkdtempSync(join(tmpdir(), 'wingman-allow-email-'));
    try {
      writeFileSync(join(dir, 'wingman.json'), JSON.stringify({ tunnels: { web: { target: 3000, policy: { allowEmail: ['*@Example.com'] } } } }));
      expect(loadStartConfig({}, dir, {}).tunnels[0]!.config.allowEmails).toEqual(['*@example.com']);
      writeFileSync(join(dir, 'wingman.json'), JSON.stringify({ tunnels: { web: { target: 3000, policy: { allowEmail: ['nobody'] } } } }));
      expect(() => loadStartConfig({}, dir, {})).toThrow(/wingman\.json: tunnels\.web\.policy\.allowEmail: invalid --allow-email "nobody"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
