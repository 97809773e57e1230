/**
 * A remote ICE candidate the agent's WebRTC stack refuses is not fatal (the
 * other candidates go on), so it is logged at debug level: silent by
 * default, on stderr with NODE_DEBUG=wingman. Runs the built module in a
 * real Node process, since NODE_DEBUG is read when a process starts.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const built = join(__dirname, '..', '..', 'dist', 'p2p', 'ice-trace.js');
const script = `require(${JSON.stringify(built)}).iceCandidateNotAdded('viewer-1')(new Error('unresolvable mDNS candidate'))`;

function stderrWith(env: NodeJS.ProcessEnv): string {
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 10_000 });
  return r.stderr;
}

describe('a refused ICE candidate on the agent', () => {
  it('is logged with the viewer and the reason when NODE_DEBUG=wingman', () => {
    expect(stderrWith({ ...process.env, NODE_DEBUG: 'wingman' })).toMatch(/WINGMAN \d+: viewer viewer-1: ICE candidate not added: unresolvable mDNS candidate/);
  });

  it('prints nothing by default', () => {
    const env = { ...process.env };
    delete env.NODE_DEBUG;
    expect(stderrWith(env)).toBe('');
  });
});
