import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_ONLY_FLAGS, OPTION_ROWS } from '../../src/cli-options';
import { CLI_USAGE } from '../../src/config';

const ENV_EXAMPLE = readFileSync(join(__dirname, '../../../../.env.example'), 'utf8');
/** The tunnel server's part of .env.example: up to the agent's header. */
const SERVER_PART = ENV_EXAMPLE.slice(0, ENV_EXAMPLE.indexOf('# Agent ('));
const assigned = (text: string) => [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);

describe('the tunnel server options table', () => {
  const envs = OPTION_ROWS.flatMap((r) => (r.env ? [r.env] : []));
  const flags = OPTION_ROWS.flatMap((r) => (r.flag ? [r.flag] : []));

  it('has one row per option, flag and variable', () => {
    for (const list of [OPTION_ROWS.map((r) => r.key), envs, flags]) expect(new Set(list).size).toBe(list.length);
  });

  it('documents every variable it reads in .env.example, and reads every variable documented there', () => {
    expect(SERVER_PART.length).toBeGreaterThan(0);
    expect([...envs].sort()).toEqual([...assigned(SERVER_PART)].sort());
  });

  it('names every flag and variable in --help, and no flag that is not in the table', () => {
    for (const f of flags) expect(CLI_USAGE).toContain(`--${f}`);
    for (const e of envs) expect(CLI_USAGE).toContain(e);
    const known = new Set([...flags, ...CLI_ONLY_FLAGS.map((f) => f.flag)]);
    const shown = [...CLI_USAGE.matchAll(/^ {2}(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]!);
    expect(shown.filter((f) => !known.has(f))).toEqual([]);
    expect([...known].filter((f) => !shown.includes(f))).toEqual([]);
  });
});
