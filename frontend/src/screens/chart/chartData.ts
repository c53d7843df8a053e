// The chart's data, kept pure so that it is tested without a canvas: bars from the API, the
// forming bar from `bar` and `quote` events, older pages merged in, and the markers.
import type { Bar, BarEvent, Decision, Order, Quote } from '../../api/types';

/** A bar as the chart takes it: `time` in UTC seconds. */
export interface CBar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export type Change = { kind: 'update'; bar: CBar } | { kind: 'append'; bar: CBar } | { kind: 'reset' } | null;

export interface Applied {
  bars: CBar[];
  change: Change;
}

export function toSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

export function toCBar(b: Bar): CBar {
  return { time: toSeconds(b.open_time), open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume ?? 0 };
}

/** Sorted by time, one bar per time; `newer` wins over `older` where both have a time. */
export function mergeBars(older: CBar[], newer: CBar[]): CBar[] {
  const byTime = new Map<number, CBar>();
  for (const b of older) byTime.set(b.time, b);
  for (const b of newer) byTime.set(b.time, b);
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

/** A `bar` event for this chart's symbol and interval: the forming bar, or a closed one. */
export function applyBarEvent(bars: CBar[], ev: BarEvent, symbol: string, interval: string): Applied {
  if (ev.symbol.toUpperCase() !== symbol.toUpperCase() || ev.interval !== interval) return { bars, change: null };
  const bar = toCBar(ev);
  const last = bars[bars.length - 1];
  if (!last || bar.time > last.time) return { bars: [...bars, bar], change: { kind: 'append', bar } };
  if (bar.time === last.time) return { bars: [...bars.slice(0, -1), bar], change: { kind: 'update', bar } };
  // A correction to an older bar: rare, so redraw everything.
  const i = bars.findIndex((b) => b.time === bar.time);
  if (i < 0) return { bars: mergeBars(bars, [bar]), change: { kind: 'reset' } };
  const next = bars.slice();
  next[i] = bar;
  return { bars: next, change: { kind: 'reset' } };
}

/**
 * The market time a quote belongs to, in UTC seconds: `source_time` when the server sends it
 * (replay: the historical time being replayed), else `ts` for live data. A replay quote without
 * `source_time` is stamped with wall-clock time, which says nothing about which bar it is: null.
 */
export function quoteMarketTime(q: Pick<Quote, 'ts' | 'source' | 'source_time'>): number | null {
  if (q.source_time) return toSeconds(q.source_time);
  if (q.source === 'replay') return null;
  return q.ts ? toSeconds(q.ts) : null;
}

/**
 * A `quote` event moves the forming bar: close to the price, high/low stretched to it. When the
 * quote's time has passed the last bar's interval, a new bar starts at the quote's bucket.
 */
export function applyQuote(bars: CBar[], q: Quote, intervalSeconds: number): Applied {
  const last = bars[bars.length - 1];
  const price = q.price;
  if (!Number.isFinite(price)) return { bars, change: null };
  const t = quoteMarketTime(q);
  // Unplaceable (replay without source_time): the caller fetches the newest bars instead.
  if (t == null) return { bars, change: null };
  if (!last) {
    const bar = { time: bucketOf(t, intervalSeconds), open: price, high: price, low: price, close: price, volume: 0 };
    return { bars: [bar], change: { kind: 'append', bar } };
  }
  const bucket = bucketOf(t, intervalSeconds);
  if (bucket < last.time) return { bars, change: null }; // a stale quote
  if (bucket === last.time) {
    if (last.close === price && last.high >= price && last.low <= price) return { bars, change: null };
    const bar = { ...last, close: price, high: Math.max(last.high, price), low: Math.min(last.low, price) };
    return { bars: [...bars.slice(0, -1), bar], change: { kind: 'update', bar } };
  }
  const bar = { time: bucket, open: price, high: price, low: price, close: price, volume: 0 };
  return { bars: [...bars, bar], change: { kind: 'append', bar } };
}

export function bucketOf(seconds: number, intervalSeconds: number): number {
  return Math.floor(seconds / intervalSeconds) * intervalSeconds;
}

export interface Marker {
  time: number;
  position: 'aboveBar' | 'belowBar' | 'inBar';
  shape: 'arrowUp' | 'arrowDown' | 'circle' | 'square';
  color: string;
  text: string;
  id: string;
}

export interface MarkerColors {
  buy: string;
  sell: string;
  fill: string;
}

const DEFAULT_COLORS: MarkerColors = { buy: '#16a34a', sell: '#dc2626', fill: '#2563eb' };

/**
 * BUY ▲ below its bar, SELL ▼ above it, on the bar whose open time is the decision's
 * `bar_time` (for a coarser interval, the bar that holds it). HOLDs are left off.
 */
export function decisionMarkers(decisions: Decision[], bars: CBar[], intervalSeconds: number, colors = DEFAULT_COLORS): Marker[] {
  const times = new Set(bars.map((b) => b.time));
  const out: Marker[] = [];
  const seen = new Set<string>();
  // Newest first, so that one bar decided on again keeps one marker per side: the latest.
  for (const d of [...decisions].sort((a, b) => b.id - a.id)) {
    if ((d.action !== 'BUY' && d.action !== 'SELL') || !d.bar_time) continue;
    const time = placeOn(toSeconds(d.bar_time), times, intervalSeconds);
    if (time == null || seen.has(`${time}${d.action}`)) continue;
    seen.add(`${time}${d.action}`);
    const buy = d.action === 'BUY';
    out.push({
      time,
      position: buy ? 'belowBar' : 'aboveBar',
      shape: buy ? 'arrowUp' : 'arrowDown',
      color: buy ? colors.buy : colors.sell,
      text: `${d.action} ${Math.round(d.confidence * 100)}%`,
      id: `decision-${d.id}`,
    });
  }
  // Labels on the newest few only: a label on every arrow would bury the candles.
  out.slice(LABELLED).forEach((m) => (m.text = ''));
  return sortMarkers(out);
}

const LABELLED = 6;

/** Paper fills as their own markers, at the order's `bar_time`, else its decision's. */
export function fillMarkers(orders: Order[], decisionsById: Map<number, Pick<Decision, 'bar_time'>>, bars: CBar[], intervalSeconds: number, colors = DEFAULT_COLORS): Marker[] {
  const times = new Set(bars.map((b) => b.time));
  const out: Marker[] = [];
  for (const o of orders) {
    if (o.status !== 'filled') continue;
    const at = o.bar_time ?? (o.decision_id != null ? decisionsById.get(o.decision_id)?.bar_time : null);
    if (!at) continue;
    const time = placeOn(toSeconds(at), times, intervalSeconds);
    if (time == null) continue;
    out.push({
      time,
      position: o.side === 'BUY' ? 'belowBar' : 'aboveBar',
      shape: 'circle',
      color: colors.fill,
      text: '',
      id: `order-${o.id}`,
    });
  }
  return sortMarkers(out);
}

function placeOn(seconds: number, times: Set<number>, intervalSeconds: number): number | null {
  if (times.has(seconds)) return seconds;
  const bucket = bucketOf(seconds, intervalSeconds);
  return times.has(bucket) ? bucket : null;
}

export function sortMarkers(markers: Marker[]): Marker[] {
  return markers.slice().sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
}

/** Which decision ids the fills need and the loaded decisions do not have. */
export function missingDecisionIds(orders: Order[], have: Map<number, unknown>): number[] {
  const ids = new Set<number>();
  for (const o of orders) if (o.status === 'filled' && !o.bar_time && o.decision_id != null && !have.has(o.decision_id)) ids.add(o.decision_id);
  return [...ids];
}

/** The newest bars fetched again (replay without `source_time`): merge them as the live tail. */
export function applyTail(bars: CBar[], tail: CBar[]): Applied {
  if (!tail.length) return { bars, change: null };
  const merged = mergeBars(bars, tail);
  const last = bars[bars.length - 1];
  const same = (a: CBar, b: CBar) => a.time === b.time && a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.volume === b.volume;
  if (merged.length === bars.length && merged.every((b, i) => b === bars[i] || same(b, bars[i]))) return { bars, change: null };
  const prefixSame = (n: number) => merged.slice(0, n).every((b, i) => same(b, bars[i]));
  if (last && merged.length === bars.length && prefixSame(bars.length - 1)) return { bars: merged, change: { kind: 'update', bar: merged[merged.length - 1] } };
  if (last && merged.length === bars.length + 1 && prefixSame(bars.length)) return { bars: merged, change: { kind: 'append', bar: merged[merged.length - 1] } };
  return { bars: merged, change: { kind: 'reset' } };
}
