/** Types for agent-events.mjs (the quick start's lines for the agent's `--json` events). */
export function formatAgentEvent(event: Record<string, unknown>): string | null;
