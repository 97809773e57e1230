/**
 * The process's budget of bytes held for exchanges that do not move:
 * AGENT_BUFFER_BUDGET_BYTES, or WINGMAN_BUFFER_BUDGET_BYTES (one per process,
 * inherited by the P2P host; checked by options.ts before anything starts).
 */
import { createBufferBudget, type BufferBudget } from '@wingman/protocol';
import { AGENT_BUFFER_BUDGET_BYTES } from './constants';

/** The variable that sets the process's budget, bytes. */
const BUFFER_BUDGET_ENV = 'WINGMAN_BUFFER_BUDGET_BYTES';

/** Smallest budget: one stalled download's queue (a read beyond its window plus a frame), so one exchange may always be held. */
const MIN_AGENT_BUFFER_BUDGET_BYTES = 1024 * 1024;

/** Largest budget: 1 GiB (more is no bound on a developer's machine). */
const MAX_AGENT_BUFFER_BUDGET_BYTES = 1024 * 1024 * 1024;

/** The budget the variable sets (the default when unset or empty), or the reason it is refused. */
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

/**
 * The process's one budget, shared by its forwarders (the relay's, an
 * in-process P2P host's), made on first use. A refused variable throws: the
 * CLI checked it before starting, so only an embedder that did not gets here.
 */
export function processBufferBudget(env: NodeJS.ProcessEnv = process.env): BufferBudget {
  if (processBudget) return processBudget;
  const budget = bufferBudgetFromEnv(env);
  if ('problem' in budget) throw new RangeError(budget.problem);
  return (processBudget = createBufferBudget(budget.bytes));
}

/**
 * The agent is under load: its budget is more than half spent, so exchanges
 * that do not move hold over half of what the process allows them. That is
 * an attack or a crowd of stalled viewers, not a developer's normal traffic
 * (a stalled exchange holds at most a few MiB); the inspector then keeps
 * heads only (capture.ts), so its copies do not add to the load.
 */
export function agentUnderLoad(budget: BufferBudget): boolean {
  return budget.total() * 2 > budget.limit;
}
