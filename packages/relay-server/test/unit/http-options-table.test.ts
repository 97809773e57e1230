import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli';
import { HTTP_OPTION_ROWS } from '../../src/cli/http-options';

const ENV_EXAMPLE = readFileSync(join(__dirname, '../../../../.env.example'), 'utf8');
/** The agent's part of .env.example: from the agent's header on. */
const AGENT_PART = ENV_EXAMPLE.slice(ENV_EXAMPLE.indexOf('# Agent ('));
/**
 * Variables the agent reads that stand in for no flag: the state directory
 * (agent/resume-store.ts), the P2P host process's message size, host and
 * predicted candidates, the process's buffer budget (forward/buffer-budget.ts) and the
 * proxy variables (cli/proxy-config.ts).
 */
const ENV_ONLY = [
  'WINGMAN_STATE_DIR',
  'WINGMAN_P2P_MAX_MESSAGE_BYTES',
  'WINGMAN_BUFFER_BUDGET_BYTES',
  'WINGMAN_P2P_HOST_CANDIDATES',
  'WINGMAN_P2P_PREDICTED_CANDIDATES',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
];
const assigned = (text: string) => [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);

async function httpHelp(): Promise<string> {
  let out = '';
  const write = (s: string) => void (out += s);
  await main(['node', 'wingman', 'http', '--help'], { stdout: { write, isTTY: false }, stderr: { write }, env: {} });
  return out;
}

describe('the wingman http options table', () => {
  const flagsOf = (syntax: string) => syntax.split(' ')[0]!;

  it('documents every variable it reads in .env.example, and reads every agent variable documented there', () => {
    const envs = [...HTTP_OPTION_ROWS.flatMap((r) => ('env' in r ? [r.env] : [])), ...ENV_ONLY];
    expect(AGENT_PART.length).toBeGreaterThan(0);
    expect([...envs].sort()).toEqual([...assigned(AGENT_PART)].sort());
  });

  it('shows every flag of the table in --help, each variable next to its flag, and no flag that is not in the table', async () => {
    const help = await httpHelp();
    const shown = [...help.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)/gm)].map((m) => m[1]!).filter((f) => f !== '--help');
    expect(shown).toEqual(HTTP_OPTION_ROWS.map((r) => flagsOf(r.flags)));
    for (const r of HTTP_OPTION_ROWS) if ('env' in r) expect(help.replace(/\s+/g, ' ')).toContain(`env ${'envShown' in r ? r.envShown : r.env}`);
  });
});
