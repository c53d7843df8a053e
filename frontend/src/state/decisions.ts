// The decision feed (newest first) and the statistics.
import { api } from '../api/client';
import type { Decision, Statistics } from '../api/types';
import { noteMarketTime } from './market';
import { createStore } from './store';

const KEEP = 200;

export interface DecisionsState {
  items: Decision[];
  loaded: boolean;
  loadError: string | null;
  total: number | null;
  stats: Statistics | null;
  statsError: string | null;
}

export const decisions = createStore<DecisionsState>(() => ({
  items: [],
  loaded: false,
  loadError: null,
  total: null,
  stats: null,
  statsError: null,
}));

export function upsertDecisions(list: Decision[]): void {
  if (!list.length) return;
  decisions.set((s) => {
    const byId = new Map(s.items.map((d) => [d.id, d]));
    for (const d of list) byId.set(d.id, d);
    const items = [...byId.values()].sort((a, b) => b.id - a.id).slice(0, KEEP);
    const added = list.filter((d) => !s.items.some((x) => x.id === d.id)).length;
    return { ...s, items, total: s.total == null ? null : s.total + added };
  });
  for (const d of list) noteMarketTime(d.symbol, d.bar_time);
}

export async function loadDecisions(): Promise<void> {
  try {
    const { items, pagination } = await api.decisions({ page_size: 100 });
    decisions.set((s) => ({ ...s, loaded: true, loadError: null, total: pagination?.total ?? items.length }));
    upsertDecisions(items);
  } catch (err) {
    decisions.set((s) => ({ ...s, loaded: true, loadError: (err as Error).message }));
  }
}

export async function loadStatistics(): Promise<void> {
  try {
    const stats = await api.statistics();
    decisions.set((s) => ({ ...s, stats, statsError: null }));
  } catch (err) {
    decisions.set((s) => ({ ...s, statsError: (err as Error).message }));
  }
}

export async function decideNow(symbolId: number): Promise<Decision> {
  const decision = await api.decideNow(symbolId);
  upsertDecisions([decision]);
  return decision;
}

/** The 3-5 signals that pushed hardest, largest |contribution| first; zero ones left out. */
export function topSignals(decision: Pick<Decision, 'signals'>, max = 5, min = 3) {
  const all = Object.entries(decision.signals ?? {})
    .map(([key, s]) => ({ key, label: s.label || key, value: s.value, contribution: Number(s.contribution) || 0 }))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  const nonZero = all.filter((s) => s.contribution !== 0);
  return (nonZero.length >= min ? nonZero : all.slice(0, Math.max(min, nonZero.length))).slice(0, max);
}
