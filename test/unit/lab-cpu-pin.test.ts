/**
 * The lab's `--pin-cpus` experiment (scripts/lab/cpu-pin.mjs): a real
 * process started the way startInNamespace starts one (without the
 * namespace) runs on the CPU its side is given, and only when pinning is on.
 */
import { execFileSync } from 'node:child_process';
import { OTHERS_CPU, PIN_CPUS_ENV, REVIEWER_CPU, pinProblem, pinnedCommand } from '../../scripts/lab/cpu-pin.mjs';

/** The CPUs the process may run on, as the kernel reports them (Cpus_allowed_list). */
const ALLOWED = "console.log(require('fs').readFileSync('/proc/self/status','utf8').match(/Cpus_allowed_list:\\s*(\\S+)/)[1])";

function allowedCpus(ns: string, env: Record<string, string | undefined>): string {
  const run = pinnedCommand(ns, process.execPath, ['-e', ALLOWED], env);
  return execFileSync(run.command, run.args, { encoding: 'utf8' }).trim();
}

describe('lab --pin-cpus', () => {
  const on = { [PIN_CPUS_ENV]: '1' };

  it('runs the reviewer’s processes on one CPU and every other namespace’s on another', () => {
    expect(allowedCpus('wmlab1-3-reviewer', on)).toBe(String(REVIEWER_CPU));
    expect(allowedCpus('wmlab1-3-dev', on)).toBe(String(OTHERS_CPU));
    expect(allowedCpus('wmlab1-3-public', on)).toBe(String(OTHERS_CPU));
  });

  it('leaves the command alone when pinning is off', () => {
    expect(pinnedCommand('wmlab1-3-reviewer', 'node', ['x.js'], {})).toEqual({ command: 'node', args: ['x.js'] });
    expect(allowedCpus('wmlab1-3-reviewer', {})).not.toBe(String(REVIEWER_CPU));
  });

  it('says why it cannot pin on one CPU or without taskset', () => {
    expect(pinProblem(1, true)).toMatch(/at least 2 CPUs/);
    expect(pinProblem(2, false)).toMatch(/apt-get install util-linux/);
    expect(pinProblem(2, true)).toBeUndefined();
  });
});
