// The watch list, the latest quote and a short price trail (sparkline) per ticker, and the
// market time being replayed.
import { api } from '../api/client';
import type { Health, Quote, WatchedSymbol } from '../api/types';
import { parseTime } from '../format/time';
import { subscriptions } from '../realtime';
import { createStore } from './store';

export const SPARK_POINTS = 60;

export interface MarketState {
  symbols: WatchedSymbol[];
  loaded: boolean;
  loadError: string | null;
  quotes: Record<string, Quote>;
  sparks: Record<string, number[]>;
  /** Wall-clock ms of the last live quote event. */
  lastQuoteAt: number | null;
  health: Health | null;
  /** Replay: per ticker, the historical market time being replayed (source_time, else the
   * newest bar or decision time known). Stocks and crypto replay different years. */
  marketTimes: Record<string, MarketTime>;
}

export interface MarketTime {
  iso: string;
  from: 'source_time' | 'bars';
}

export const market = createStore<MarketState>(() => ({
  symbols: [],
  loaded: false,
  loadError: null,
  quotes: {},
  sparks: {},
  lastQuoteAt: null,
  health: null,
  marketTimes: {},
}));

function syncSubscriptions(symbols: WatchedSymbol[]) {
  subscriptions.set(symbols.map((s) => s.symbol));
}

export function symbolByTicker(ticker: string): WatchedSymbol | undefined {
  const t = ticker.toUpperCase();
  return market.get().symbols.find((s) => s.symbol === t);
}

export async function loadSymbols(): Promise<void> {
  try {
    const { items } = await api.symbols();
    market.set((s) => ({ ...s, symbols: items, loaded: true, loadError: null }));
    syncSubscriptions(items);
    await Promise.all([loadLatest(), ...items.slice(0, 50).map(seedSpark)]);
  } catch (err) {
    market.set((s) => ({ ...s, loaded: true, loadError: (err as Error).message }));
  }
}

export async function loadLatest(): Promise<void> {
  const quotes = await api.latestQuotes();
  market.set((s) => {
    const next = { ...s.quotes };
    for (const q of quotes) {
      const have = next[q.symbol];
      if (!have || (parseTime(have.ts) ?? 0) <= (parseTime(q.ts) ?? 0)) next[q.symbol] = q;
    }
    return { ...s, quotes: next };
  });
  for (const q of quotes) noteSourceTime(q);
}

async function seedSpark(symbol: WatchedSymbol): Promise<void> {
  try {
    const { items } = await api.quoteHistory(symbol.id, SPARK_POINTS);
    const prices = items.slice().reverse().map((q) => q.price);
    market.set((s) => {
      // Live quotes may have arrived while this loaded: keep them after the history.
      const live = s.sparks[symbol.symbol] ?? [];
      return { ...s, sparks: { ...s.sparks, [symbol.symbol]: [...prices, ...live].slice(-SPARK_POINTS) } };
    });
  } catch {
    /* a sparkline is a nicety; the row still shows the price */
  }
}

export async function addSymbol(text: string): Promise<WatchedSymbol> {
  const added = await api.addSymbol(text.trim());
  market.set((s) => {
    const symbols = s.symbols.some((x) => x.id === added.id) ? s.symbols : [...s.symbols, added];
    return { ...s, symbols };
  });
  syncSubscriptions(market.get().symbols);
  loadLatest().catch(() => undefined);
  return added;
}

export async function removeSymbol(id: number): Promise<void> {
  await api.removeSymbol(id);
  market.set((s) => {
    const gone = s.symbols.find((x) => x.id === id);
    const quotes = { ...s.quotes };
    const sparks = { ...s.sparks };
    if (gone) {
      delete quotes[gone.symbol];
      delete sparks[gone.symbol];
    }
    return { ...s, symbols: s.symbols.filter((x) => x.id !== id), quotes, sparks };
  });
  syncSubscriptions(market.get().symbols);
}

/** A `quote` event: newer quotes replace the latest and extend the sparkline. */
export function applyQuote(q: Quote, nowMs = Date.now()): void {
  market.set((s) => {
    const have = s.quotes[q.symbol];
    if (have && (parseTime(have.ts) ?? 0) > (parseTime(q.ts) ?? 0)) return s;
    const trail = s.sparks[q.symbol] ?? [];
    const sameTick = have && have.ts === q.ts;
    const sparks = sameTick ? [...trail.slice(0, -1), q.price] : [...trail, q.price].slice(-SPARK_POINTS);
    return { ...s, quotes: { ...s.quotes, [q.symbol]: q }, sparks: { ...s.sparks, [q.symbol]: sparks }, lastQuoteAt: nowMs };
  });
  noteSourceTime(q);
}

function noteSourceTime(q: Quote) {
  const iso = q.source_time;
  if (!iso) return;
  market.set((s) => ({ ...s, marketTimes: { ...s.marketTimes, [q.symbol]: { iso, from: 'source_time' } } }));
}

/** Until quotes carry `source_time`, the newest decision or bar time stands in for it. */
export function noteMarketTime(ticker: string, iso: string | null | undefined): void {
  if (!iso || !ticker) return;
  market.set((s) => {
    const have = s.marketTimes[ticker];
    if (have?.from === 'source_time') return s;
    if (have && (parseTime(have.iso) ?? 0) >= (parseTime(iso) ?? 0)) return s;
    return { ...s, marketTimes: { ...s.marketTimes, [ticker]: { iso, from: 'bars' } } };
  });
}

export async function loadHealth(): Promise<Health | null> {
  const health = await api.health();
  if (health) market.set((s) => ({ ...s, health }));
  return health;
}
