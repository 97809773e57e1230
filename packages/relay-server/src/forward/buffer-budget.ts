/**
 * The process's budget of bytes held for exchanges that do not move:
 * AGENT_BUFFER_BUDGET_BYTES, or WINGMAN_BUFFER_BUDGET_BYTES (one per process,
 * inherited by the P2P host; checked by options.ts before anything starts).
 */
import { createBufferBudget, type BufferBudget } from '@wingman/protocol';
import { AGENT_BUFFER_BUDGET_BYTES } from './constants';

const BUFFER_BUDGET_ENV = 'WINGMAN_BUFFER_BUDGET_BYTES';

/** One stalled download's queue (a read beyond its window plus a frame): one exchange may always be held. */
const MIN_AGENT_BUFFER_BUDGET_BYTES = 1024 * 1024;

/** 1 GiB: more is no bound on a developer's machine. */
const MAX_AGENT_BUFFER_BUDGET_BYTES = 1024 * 1024 * 1024;

/** The default when unset or empty, or why the value is refused. */
export function bufferBudgetFromEnv(env: NodeJS.ProcessEnv): { bytes: number } | { problem: string } {
  const text = env[BUFFER_BUDGET_ENV];
  if (text === undefined || text.trim() === '') return { bytes: AGENT_BUFFER_BUDGET_BYTES };
  const bytes = /^[0-9]{1,10}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(bytes >= MIN_AGENT_BUFFER_BUDGET_BYTES && bytes <= MAX_AGENT_BUFFER_BUDGET_BYTES)) {
    return { problem: `invalid ${BUFFER_BUDGET_ENV} "${text}": expected bytes, ${MIN_AGENT_BUFFER_BUDGET_BYTES}-${MAX_AGENT_BUFFER_BUDGET_BYTES}` };
  }
  return { bytes };
}

let processBudget: BufferBudget | undefined;

/** Made on first use; a refused variable throws (the CLI checked it, so only an embedder gets here). */
export function processBufferBudget(env: NodeJS.ProcessEnv = process.env): BufferBudget {
  if (processBudget) return processBudget;
  const budget = bufferBudgetFromEnv(env);
  if ('problem' in budget) throw new RangeError(budget.problem);
  return (processBudget = createBufferBudget(budget.bytes));
}

/**
 * More than half the budget is spent: an attack or a crowd of stalled
 * viewers, not normal traffic; the inspector then keeps heads only (capture.ts).
 */
export function agentUnderLoad(budget: BufferBudget): boolean {
  return budget.total() * 2 > budget.limit;
}
