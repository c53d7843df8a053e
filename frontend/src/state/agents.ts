// The three agents' statuses, from GET and from `agent_status` events.
import { api } from '../api/client';
import { AGENTS, type AgentName, type AgentStatus } from '../api/types';
import { createStore } from './store';

export type AgentsState = Record<AgentName, AgentStatus | null> & { loadError: string | null };

export const agents = createStore<AgentsState>(() => ({
  'market-monitor': null,
  'decision-maker': null,
  execution: null,
  loadError: null,
}));

export async function loadAgents(): Promise<void> {
  try {
    const all = await Promise.all(AGENTS.map((name) => api.agent(name)));
    agents.set((s) => {
      const next = { ...s, loadError: null };
      for (const status of all) next[status.agent] = { ...(s[status.agent] ?? {}), ...status };
      return next;
    });
  } catch (err) {
    agents.set((s) => ({ ...s, loadError: (err as Error).message }));
  }
}

/** Merge, because some announcements carry fewer fields (a failure has no equity). */
export function applyAgentStatus(status: AgentStatus): void {
  if (!AGENTS.includes(status.agent)) return;
  agents.set((s) => ({ ...s, [status.agent]: { ...(s[status.agent] ?? {}), ...status } }));
}

export async function controlAgent(name: AgentName, action: 'start' | 'stop'): Promise<AgentStatus> {
  const status = await api.controlAgent(name, action);
  applyAgentStatus(status);
  return status;
}

/** Halted means the daily loss limit stopped paper buys; the reason is in last_error. */
export function haltedUntil(status: AgentStatus | null, nowMs = Date.now()): string | null {
  const until = status?.halted_until ?? (status?.counters?.halted_until as string | null | undefined) ?? null;
  if (!until) return null;
  return Date.parse(until) > nowMs ? until : null;
}
