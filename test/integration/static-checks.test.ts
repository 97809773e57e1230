/**
 * The code checks `npm test` runs beside its tests (scripts/lib/static-checks.mjs), on a small
 * package whose three scripts stand in for tsc, ESLint and Prettier: all three run at once, and
 * only the failed one comes back, with the command that fixes it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStaticChecks } from '../../scripts/lib/static-checks.mjs';

describe('the code checks', () => {
  it('run the three at once and name the one that failed, with its fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wingman-checks-'));
    try {
      // Each script writes that it started, then ends once all three have: run one after the other, they never would.
      const step = (name: string, code: number) =>
        `node -e "const fs=require('fs');fs.writeFileSync('${name}','');const t=setInterval(()=>{if(['a','b','c'].every((f)=>fs.existsSync(f))){clearInterval(t);console.log('${name} output');process.exit(${code})}},20);setTimeout(()=>process.exit(9),20000)"`;
      const scripts = { 'typecheck:tests': step('a', 0), lint: step('b', 1), 'format:check': step('c', 0) };
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'checks', private: true, scripts }));
      const failed = await runStaticChecks(dir, new AbortController().signal);
      expect(failed).toEqual([expect.stringMatching(/^ {2}- npm run lint failed \(exit 1\): fix the errors listed above/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
