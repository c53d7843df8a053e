import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../../api/client';
import { describeError } from '../../api/errors';
import { INTERVAL_SECONDS, INTERVALS, type BarEvent, type Decision, type Interval, type Order, type Quote, type WatchedSymbol } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { Link } from '../../components/Link';
import { formatPct, formatPrice, priceDecimals } from '../../format/numbers';
import { formatMarketTime } from '../../format/time';
import { useSocketEvent } from '../../realtime';
import { navigate, useLocation } from '../../router';
import { decideNow, decisions as decisionsStore } from '../../state/decisions';
import { market, noteMarketTime } from '../../state/market';
import { portfolio } from '../../state/portfolio';
import { useStore } from '../../state/store';
import { applyBarEvent, applyQuote, applyTail, decisionMarkers, fillMarkers, mergeBars, missingDecisionIds, toCBar, type CBar, type Change } from './chartData';

const CandleChart = lazy(() => import('./CandleChart'));

const PAGE = 300;
const TAIL_EVERY_MS = 1_000;
const BAR_EVENTS_FRESH_MS = 30_000;

function defaultInterval(s: WatchedSymbol | undefined): Interval {
  return s?.asset_class === 'crypto' ? '1h' : '1d';
}

export function ChartScreen({ ticker }: { ticker?: string }) {
  const symbols = useStore(market, (s) => s.symbols);
  const loaded = useStore(market, (s) => s.loaded);
  const { query } = useLocation();
  const symbol = ticker ? symbols.find((s) => s.symbol === ticker.toUpperCase()) : symbols[0];

  if (!loaded) return <Shell>Loading…</Shell>;
  if (!symbols.length) {
    return (
      <Shell>
        <EmptyState title="Add a symbol to start" action={<Link className="btn btn--primary" href="/">Go to the watch list</Link>}>
          The chart shows candles for a symbol you watch. Add one (BTC, AAPL…) on the watch list first.
        </EmptyState>
      </Shell>
    );
  }
  if (!symbol) {
    return (
      <Shell>
        <EmptyState title={`You do not watch ${ticker}`} action={<Link className="btn btn--primary" href="/">Go to the watch list</Link>}>
          Add it on the watch list, or pick one of yours below.
        </EmptyState>
        <SymbolPicker symbols={symbols} current={undefined} interval={undefined} />
      </Shell>
    );
  }
  const wanted = query.get('interval') as Interval | null;
  const interval = wanted && INTERVALS.includes(wanted) ? wanted : defaultInterval(symbol);
  const limit = Math.min(5000, Math.max(50, Number(query.get('bars')) || PAGE));
  const fitAll = query.get('fit') === '1';
  return <SymbolChart key={`${symbol.id}-${interval}-${limit}-${fitAll}`} symbol={symbol} symbols={symbols} interval={interval} limit={limit} fitAll={fitAll} />;
}

function Shell({ children }: { children: React.ReactNode }) {
  return (
    <main id="main" className="screen">
      <header className="screen__head">
        <h1>Chart</h1>
      </header>
      {children}
    </main>
  );
}

function SymbolPicker({ symbols, current, interval }: { symbols: WatchedSymbol[]; current?: WatchedSymbol; interval?: Interval }) {
  return (
    <div className="field field--inline picker">
      <label htmlFor="chart-symbol">Symbol</label>
      <select
        id="chart-symbol"
        value={current?.symbol ?? ''}
        onChange={(e) => navigate(`/chart/${encodeURIComponent(e.target.value)}${interval && current && interval !== defaultInterval(current) ? `?interval=${interval}` : ''}`)}
      >
        {!current && <option value="">Choose…</option>}
        {symbols.map((s) => (
          <option key={s.id} value={s.symbol}>
            {s.symbol}
          </option>
        ))}
      </select>
    </div>
  );
}

interface Series {
  bars: CBar[];
  change: Change;
}

function SymbolChart({ symbol, symbols, interval, limit, fitAll }: { symbol: WatchedSymbol; symbols: WatchedSymbol[]; interval: Interval; limit: number; fitAll: boolean }) {
  const step = INTERVAL_SECONDS[interval];
  const [series, setSeries] = useState<Series>({ bars: [], change: null });
  const [state, setState] = useState<'loading' | 'ready' | 'error'>('loading');
  const [error, setError] = useState<string | null>(null);
  const [olderState, setOlderState] = useState<'idle' | 'loading' | 'done' | 'error'>('idle');
  const [ownDecisions, setOwnDecisions] = useState<Decision[]>([]);
  const [ownOrders, setOwnOrders] = useState<Order[]>([]);
  const [extraDecisions, setExtraDecisions] = useState<Map<number, Decision>>(new Map());
  const [decideMsg, setDecideMsg] = useState<{ kind: 'ok' | 'error'; text: string; decision?: Decision } | null>(null);
  const [deciding, setDeciding] = useState(false);
  const barsRef = useRef<CBar[]>([]);
  // When the server last sent a `bar` for this chart: while they flow, quotes do not move bars.
  const lastBarEvent = useRef(0);
  const olderBusy = useRef(false);
  const tailTimer = useRef<{ last: number; pending: ReturnType<typeof setTimeout> | null }>({ last: 0, pending: null });
  const quote = useStore(market, (s) => s.quotes[symbol.symbol]);
  const liveDecisions = useStore(decisionsStore, (s) => s.items);
  const liveOrders = useStore(portfolio, (s) => s.orders);

  const update = useCallback((next: Series) => {
    if (next.change === null && next.bars === barsRef.current) return;
    barsRef.current = next.bars;
    setSeries(next);
    const last = next.bars[next.bars.length - 1];
    if (last) noteMarketTime(symbol.symbol, new Date(last.time * 1000).toISOString());
  }, [symbol.symbol]);

  // The first page, newest bars, oldest first.
  useEffect(() => {
    const ctrl = new AbortController();
    firstPage(symbol.id, interval, limit, ctrl.signal)
      .then((bars) => {
        update({ bars, change: { kind: 'reset' } });
        setState('ready');
      })
      .catch((err) => {
        if (ctrl.signal.aborted) return;
        setError(describeError(err));
        setState('error');
      });
    Promise.all([api.decisions({ symbol_id: symbol.id, page_size: 500 }), api.orders({ symbol_id: symbol.id, page_size: 500 })])
      .then(([d, o]) => {
        if (ctrl.signal.aborted) return;
        setOwnDecisions(d.items);
        setOwnOrders(o.items);
      })
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [symbol.id, interval, limit, update]);

  const loadOlder = useCallback(() => {
    const bars = barsRef.current;
    if (olderBusy.current || !bars.length || olderState === 'done') return;
    olderBusy.current = true;
    setOlderState('loading');
    const end = new Date(bars[0].time * 1000).toISOString();
    api
      .bars({ symbol_id: symbol.id, interval, end, limit: PAGE })
      .then((older) => {
        const have = barsRef.current;
        const merged = mergeBars(older.map(toCBar), have);
        if (merged.length === have.length) {
          setOlderState('done');
        } else {
          update({ bars: merged, change: { kind: 'reset' } });
          setOlderState('idle');
        }
      })
      .catch(() => setOlderState('error'))
      .finally(() => {
        olderBusy.current = false;
      });
  }, [symbol.id, interval, olderState, update]);

  const resyncTail = useCallback(() => {
    const t = tailTimer.current;
    const run = () => {
      t.pending = null;
      t.last = Date.now();
      api
        .bars({ symbol_id: symbol.id, interval, limit: 10 })
        .then((tail) => update(applyTail(barsRef.current, tail.map(toCBar))))
        .catch(() => undefined);
    };
    if (t.pending) return;
    const wait = TAIL_EVERY_MS - (Date.now() - t.last);
    if (wait <= 0) run();
    else t.pending = setTimeout(run, wait);
  }, [symbol.id, interval, update]);
  useEffect(() => () => void (tailTimer.current.pending && clearTimeout(tailTimer.current.pending)), []);

  // The forming bar: from `bar` events when the server sends them, else from quotes.
  useSocketEvent<BarEvent>('bar', (ev) => {
    if (state !== 'ready') return;
    const applied = applyBarEvent(barsRef.current, ev, symbol.symbol, interval);
    if (applied.change) {
      lastBarEvent.current = Date.now();
      update(applied);
    }
  });
  useSocketEvent<Quote>('quote', (q) => {
    if (state !== 'ready' || q.symbol !== symbol.symbol || Date.now() - lastBarEvent.current < BAR_EVENTS_FRESH_MS) return;
    const applied = applyQuote(barsRef.current, q, step);
    if (applied.change) update(applied);
    // A bar just closed (or quotes skipped some): take the stored bars, true OHLCV, from the
    // server. A replay quote without source_time cannot be placed at all: same remedy.
    if (applied.change?.kind === 'append' || (q.source === 'replay' && !q.source_time)) resyncTail();
  });

  // Markers: the screen's own fetch plus whatever arrived live.
  const symbolDecisions = useMemo(() => {
    const byId = new Map<number, Decision>();
    for (const d of ownDecisions) byId.set(d.id, d);
    for (const d of liveDecisions) if (d.symbol_id === symbol.id) byId.set(d.id, d);
    return [...byId.values()];
  }, [ownDecisions, liveDecisions, symbol.id]);
  const symbolOrders = useMemo(() => {
    const byId = new Map<number, Order>();
    for (const o of ownOrders) byId.set(o.id, o);
    for (const o of liveOrders) if (o.symbol_id === symbol.id) byId.set(o.id, o);
    return [...byId.values()];
  }, [ownOrders, liveOrders, symbol.id]);
  const decisionsById = useMemo(() => {
    const m = new Map<number, Decision>(extraDecisions);
    for (const d of symbolDecisions) m.set(d.id, d);
    return m;
  }, [symbolDecisions, extraDecisions]);

  // A fill whose decision is older than the loaded page: fetch that decision for its bar time.
  useEffect(() => {
    const missing = missingDecisionIds(symbolOrders, decisionsById).slice(0, 20);
    if (!missing.length) return;
    Promise.all(missing.map((id) => api.decision(id).catch(() => null))).then((found) => {
      setExtraDecisions((prev) => {
        const next = new Map(prev);
        for (const d of found) if (d) next.set(d.id, d);
        return next;
      });
    });
  }, [symbolOrders, decisionsById]);

  const markers = useMemo(() => {
    const colors = markerColors();
    return [...decisionMarkers(symbolDecisions, series.bars, step, colors), ...fillMarkers(symbolOrders, decisionsById, series.bars, step, colors)].sort((a, b) => a.time - b.time);
  }, [symbolDecisions, symbolOrders, decisionsById, series.bars, step]);

  async function decide() {
    setDeciding(true);
    setDecideMsg(null);
    try {
      const d = await decideNow(symbol.id);
      setDecideMsg({ kind: 'ok', decision: d, text: `${d.action} at ${Math.round(d.confidence * 100)}% confidence, on the bar of ${formatMarketTime(d.bar_time, d.interval === '1d')}.` });
    } catch (err) {
      setDecideMsg({ kind: 'error', text: describeError(err) });
    } finally {
      setDeciding(false);
    }
  }

  const lastBar = series.bars[series.bars.length - 1];
  const price = quote?.price ?? lastBar?.close;
  const decimals = priceDecimals(price ?? 0, symbol.asset_class, symbol.tick_size);
  const signals = markers.filter((m) => m.id.startsWith('decision-')).length;
  const fills = markers.length - signals;

  return (
    <main id="main" className="screen screen--chart">
      <header className="screen__head">
        <h1>
          {symbol.symbol} <span className="muted small">{symbol.name}</span>
        </h1>
        <div className="quote-line" aria-live="polite">
          <span className="quote-line__price" data-testid="chart-price">
            {formatPrice(price, symbol.asset_class, symbol.tick_size)}
          </span>
          {quote && <span className={`change change--${(quote.change_pct ?? 0) >= 0 ? 'up' : 'down'}`}>{formatPct(quote.change_pct)}</span>}
        </div>
      </header>
      <div className="toolbar">
        <SymbolPicker symbols={symbols} current={symbol} interval={interval} />
        <div className="segmented" role="group" aria-label="Interval">
          {INTERVALS.map((iv) => (
            <button
              key={iv}
              type="button"
              className="segmented__btn"
              aria-pressed={iv === interval}
              onClick={() => navigate(`/chart/${encodeURIComponent(symbol.symbol)}${iv === defaultInterval(symbol) ? '' : `?interval=${iv}`}`)}
            >
              {iv}
            </button>
          ))}
        </div>
        <button type="button" className="btn" onClick={decide} disabled={deciding}>
          {deciding ? 'Deciding…' : 'Decide now'}
        </button>
      </div>
      {decideMsg && (
        <p className={decideMsg.kind === 'ok' ? 'notice' : 'form-error'} role={decideMsg.kind === 'ok' ? 'status' : 'alert'} data-testid="chart-decide-msg" data-decision-id={decideMsg.decision?.id} data-action={decideMsg.decision?.action}>
          {decideMsg.text}
        </p>
      )}
      <div className="chart-card card">
        {state === 'loading' && <p className="muted chart-card__msg">Loading {interval} bars…</p>}
        {state === 'error' && (
          <p className="form-error chart-card__msg" role="alert">
            Could not load bars: {error}
          </p>
        )}
        {state === 'ready' && series.bars.length === 0 && (
          <EmptyState title={`No ${interval} bars for ${symbol.symbol} yet`}>
            {symbol.exchange === 'replay' || quote?.source === 'replay'
              ? `Replay serves ${symbol.asset_class === 'crypto' ? 'hourly' : 'daily'} history for ${symbol.symbol}; pick ${symbol.asset_class === 'crypto' ? '1h or 1d' : '1d'}.`
              : 'Try a longer interval, or start the market monitor so bars are stored as they form.'}
          </EmptyState>
        )}
        {state === 'ready' && series.bars.length > 0 && (
          <Suspense fallback={<p className="muted chart-card__msg">Loading the chart…</p>}>
            <CandleChart
              bars={series.bars}
              change={series.change}
              markers={markers}
              decimals={decimals}
              daily={interval === '1d'}
              onNeedOlder={fitAll ? undefined : loadOlder}
              fitAll={fitAll}
              label={`${symbol.symbol} ${interval} candlesticks with volume, ${series.bars.length} bars, ${signals} decision markers, ${fills} paper fills`}
            />
          </Suspense>
        )}
      </div>
      <p className="muted small chart-foot" data-testid="chart-foot">
        <span data-testid="bar-count" data-first={series.bars[0]?.time}>{series.bars.length} bars</span>
        {lastBar && <> · last bar {formatMarketTime(lastBar.time * 1000, interval === '1d')}</>}
        {' · '}
        <span data-testid="marker-count" data-markers={markers.map((m) => m.id).join(' ')}>
          {signals} decision marker{signals === 1 ? '' : 's'}, {fills} fill{fills === 1 ? '' : 's'}
        </span>
        {olderState === 'loading' && ' · loading older bars…'}
        {olderState === 'done' && ' · start of the stored history'}
        {olderState === 'error' && (
          <>
            {' · '}
            <button type="button" className="btn btn--link" onClick={() => setOlderState('idle')}>
              older bars failed; retry
            </button>
          </>
        )}
        {olderState === 'idle' && series.bars.length > 0 && (
          <>
            {' · '}
            <button type="button" className="btn btn--link" onClick={loadOlder}>
              Load older bars
            </button>
          </>
        )}
      </p>
      <p className="legend small">
        <span className="legend__buy">▲ BUY</span> below the bar · <span className="legend__sell">▼ SELL</span> above it · <span className="legend__fill">● paper fill</span>
      </p>
    </main>
  );
}

/**
 * The newest `limit` bars. The server's window is `limit` intervals of calendar time, which holds
 * fewer bars when markets close (weekends) or the feed has gaps: page back until there are enough.
 */
async function firstPage(symbolId: number, interval: Interval, limit: number, signal: AbortSignal): Promise<CBar[]> {
  let bars = (await api.bars({ symbol_id: symbolId, interval, limit }, signal)).map(toCBar);
  for (let round = 0; bars.length > 0 && bars.length < limit && round < 4; round++) {
    const end = new Date(bars[0].time * 1000).toISOString();
    const older = (await api.bars({ symbol_id: symbolId, interval, end, limit: limit - bars.length }, signal)).map(toCBar);
    const merged = mergeBars(older, bars);
    if (merged.length === bars.length) break;
    bars = merged;
  }
  return bars.slice(-limit);
}

function markerColors() {
  const css = getComputedStyle(document.documentElement);
  const v = (n: string, f: string) => css.getPropertyValue(n).trim() || f;
  return { buy: v('--up', '#16a34a'), sell: v('--down', '#dc2626'), fill: v('--accent', '#2563eb') };
}
