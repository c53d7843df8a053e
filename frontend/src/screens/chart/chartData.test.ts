import { describe, expect, it } from 'vitest';
import type { BarEvent, Decision, Order, Quote } from '../../api/types';
import { applyBarEvent, applyQuote, applyTail, decisionMarkers, fillMarkers, mergeBars, missingDecisionIds, quoteMarketTime, toCBar, type CBar } from './chartData';

const H = 3600;
const t0 = Date.UTC(2020, 5, 30, 20) / 1000;
const iso = (s: number) => new Date(s * 1000).toISOString();
const bar = (time: number, close: number, extra: Partial<CBar> = {}): CBar => ({ time, open: close, high: close + 1, low: close - 1, close, volume: 10, ...extra });
const bars = [bar(t0, 100), bar(t0 + H, 101), bar(t0 + 2 * H, 102)];
const quote = (price: number, at: number, extra: Partial<Quote> = {}): Quote => ({ symbol: 'BTCUSDT', price, change: null, change_pct: null, volume: 5, ts: iso(at), source: 'bybit', ...extra });

describe('forming bar from quotes', () => {
  it('moves the last bar: close to the price, high and low stretched', () => {
    const { bars: next, change } = applyQuote(bars, quote(110, t0 + 2 * H + 120), H);
    expect(change?.kind).toBe('update');
    expect(next).toHaveLength(3);
    expect(next[2]).toMatchObject({ time: t0 + 2 * H, open: 102, close: 110, high: 110, low: 101 });
    const lower = applyQuote(next, quote(95, t0 + 2 * H + 300), H).bars[2];
    expect(lower).toMatchObject({ close: 95, high: 110, low: 95 });
  });

  it('starts a new bar once the quote time passes the interval', () => {
    const { bars: next, change } = applyQuote(bars, quote(105, t0 + 3 * H + 5), H);
    expect(change?.kind).toBe('append');
    expect(next[3]).toEqual({ time: t0 + 3 * H, open: 105, high: 105, low: 105, close: 105, volume: 0 });
  });

  it('ignores stale quotes and unchanged prices', () => {
    expect(applyQuote(bars, quote(1, t0 + H), H).change).toBeNull();
    expect(applyQuote(bars, quote(102, t0 + 2 * H + 1), H).change).toBeNull();
  });

  it('places replay quotes by source_time, and not at all without it', () => {
    const replay = quote(108, Date.UTC(2026, 11, 1) / 1000, { source: 'replay', source_time: iso(t0 + 2 * H) });
    expect(quoteMarketTime(replay)).toBe(t0 + 2 * H);
    expect(applyQuote(bars, replay, H).bars[2].close).toBe(108);
    const { source_time: _, ...noSourceTime } = replay;
    expect(quoteMarketTime(noSourceTime)).toBeNull();
    expect(applyQuote(bars, noSourceTime, H).change).toBeNull();
  });

  it('buckets by the chart interval: a daily chart keeps one bar per UTC day', () => {
    const D = 86_400;
    const day = [bar(Date.UTC(2024, 0, 2) / 1000, 50)];
    const noon = applyQuote(day, quote(51, Date.UTC(2024, 0, 2, 12) / 1000), D);
    expect(noon.change?.kind).toBe('update');
    const next = applyQuote(noon.bars, quote(52, Date.UTC(2024, 0, 3, 0, 1) / 1000), D);
    expect(next.change?.kind).toBe('append');
    expect(next.bars[1].time).toBe(Date.UTC(2024, 0, 3) / 1000);
  });
});

describe('forming bar from bar events', () => {
  const ev = (open_time: number, close: number, extra: Partial<BarEvent> = {}): BarEvent => ({
    symbol: 'BTCUSDT', interval: '1h', open_time: iso(open_time), open: 102, high: 120, low: 90, close, volume: 42, closed: false, ...extra,
  });

  it('replaces the forming bar with the event, volume included', () => {
    const { bars: next, change } = applyBarEvent(bars, ev(t0 + 2 * H, 111), 'BTCUSDT', '1h');
    expect(change?.kind).toBe('update');
    expect(next[2]).toEqual({ time: t0 + 2 * H, open: 102, high: 120, low: 90, close: 111, volume: 42 });
  });

  it('appends the next bar, and ignores other symbols and intervals', () => {
    expect(applyBarEvent(bars, ev(t0 + 3 * H, 99), 'BTCUSDT', '1h').change?.kind).toBe('append');
    expect(applyBarEvent(bars, ev(t0 + 3 * H, 99, { symbol: 'ETHUSDT' }), 'BTCUSDT', '1h').change).toBeNull();
    expect(applyBarEvent(bars, ev(t0 + 3 * H, 99, { interval: '1m' }), 'BTCUSDT', '1h').change).toBeNull();
  });

  it('corrects an older bar with a full redraw', () => {
    const { bars: next, change } = applyBarEvent(bars, ev(t0, 77, { closed: true }), 'BTCUSDT', '1h');
    expect(change?.kind).toBe('reset');
    expect(next[0].close).toBe(77);
  });
});

describe('history', () => {
  it('merges an older page before the loaded bars without duplicates', () => {
    const older = [bar(t0 - 2 * H, 98), bar(t0 - H, 99), bar(t0, 100.5)];
    const merged = mergeBars(older, bars);
    expect(merged.map((b) => b.time)).toEqual([t0 - 2 * H, t0 - H, t0, t0 + H, t0 + 2 * H]);
    expect(merged[2].close).toBe(100); // the loaded bar wins
  });

  it('converts API bars to UTC seconds', () => {
    expect(toCBar({ open_time: '2020-06-30T20:00:00+00:00', open: 1, high: 2, low: 0.5, close: 1.5, volume: 3 }).time).toBe(t0);
  });

  it('merges a refetched tail as an update or an append', () => {
    expect(applyTail(bars, [bars[2]]).change).toBeNull();
    expect(applyTail(bars, [bar(t0 + 2 * H, 105)]).change?.kind).toBe('update');
    expect(applyTail(bars, [bars[2], bar(t0 + 3 * H, 103)]).change?.kind).toBe('append');
  });
});

describe('markers', () => {
  const decision = (id: number, action: Decision['action'], barTime: number | null, confidence = 0.62): Decision =>
    ({ id, action, bar_time: barTime == null ? null : iso(barTime), confidence, symbol: 'BTCUSDT', symbol_id: 1 }) as Decision;

  it('puts BUY below and SELL above the bar whose open time is the bar_time; HOLD is left off', () => {
    const m = decisionMarkers([decision(2, 'SELL', t0 + 2 * H), decision(1, 'BUY', t0 + H), decision(3, 'HOLD', t0)], bars, H);
    expect(m).toEqual([
      expect.objectContaining({ time: t0 + H, position: 'belowBar', shape: 'arrowUp', text: 'BUY 62%' }),
      expect.objectContaining({ time: t0 + 2 * H, position: 'aboveBar', shape: 'arrowDown', text: 'SELL 62%' }),
    ]);
  });

  it('keeps one marker per bar and side, the newest, and labels only the newest few', () => {
    const many = Array.from({ length: 10 }, (_, i) => decision(i + 1, 'BUY', i < 2 ? t0 : t0 + H));
    const m = decisionMarkers(many, bars, H);
    expect(m.map((x) => x.id)).toEqual(['decision-2', 'decision-10']);
    const spread = Array.from({ length: 8 }, (_, i) => decision(i + 1, 'SELL', t0 + i * H));
    const wide = [...Array.from({ length: 8 }, (_, i) => bar(t0 + i * H, 100))];
    expect(decisionMarkers(spread, wide, H).filter((x) => x.text).map((x) => x.id)).toEqual(['decision-3', 'decision-4', 'decision-5', 'decision-6', 'decision-7', 'decision-8']);
  });

  it('puts an hourly decision on the daily bar that holds it, and skips bars not loaded', () => {
    const D = 86_400;
    const day = [bar(Date.UTC(2020, 5, 30) / 1000, 100)];
    expect(decisionMarkers([decision(1, 'BUY', t0)], day, D)).toHaveLength(1);
    expect(decisionMarkers([decision(1, 'BUY', t0 + 10 * D)], bars, H)).toHaveLength(0);
    expect(decisionMarkers([decision(1, 'BUY', null)], bars, H)).toHaveLength(0);
  });

  it("places fills at the order's bar_time, else at its decision's", () => {
    const orders = [
      { id: 1, status: 'filled', side: 'BUY', decision_id: 10 },
      { id: 2, status: 'filled', side: 'SELL', decision_id: 11, bar_time: iso(t0 + 2 * H) },
      { id: 3, status: 'rejected', side: 'BUY', decision_id: 12 },
      { id: 4, status: 'filled', side: 'BUY', decision_id: 99 },
    ] as Order[];
    const byId = new Map([[10, { bar_time: iso(t0 + H) }]]);
    const m = fillMarkers(orders, byId, bars, H);
    expect(m.map((x) => [x.time, x.position, x.id])).toEqual([
      [t0 + H, 'belowBar', 'order-1'],
      [t0 + 2 * H, 'aboveBar', 'order-2'],
    ]);
    expect(missingDecisionIds(orders, byId)).toEqual([99]);
  });
});
