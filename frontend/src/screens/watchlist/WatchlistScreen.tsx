import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, describeError } from '../../api/errors';
import type { Quote, WatchedSymbol } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { Link } from '../../components/Link';
import { Sparkline } from '../../components/Sparkline';
import { formatPct, formatPrice, formatVolume, trend } from '../../format/numbers';
import { formatAgo } from '../../format/time';
import { useRefusedSymbols } from '../../realtime';
import { agents, controlAgent } from '../../state/agents';
import { addSymbol, market, removeSymbol } from '../../state/market';
import { useStore } from '../../state/store';

export function WatchlistScreen() {
  const symbols = useStore(market, (s) => s.symbols);
  const loaded = useStore(market, (s) => s.loaded);
  const loadError = useStore(market, (s) => s.loadError);
  const quotes = useStore(market, (s) => s.quotes);
  const sparks = useStore(market, (s) => s.sparks);
  const monitor = useStore(agents, (s) => s['market-monitor']);
  const refused = useRefusedSymbols();
  const monitorOn = monitor?.state === 'running' || monitor?.state === 'degraded';
  // "12 s ago" keeps counting even when no quote arrives.
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 5_000);
    return () => clearInterval(t);
  }, []);

  return (
    <main id="main" className="screen">
      <header className="screen__head">
        <h1>Watch list</h1>
        <MonitorSwitch running={monitorOn} />
      </header>
      <AddSymbolForm />
      {monitor?.state === 'degraded' && (
        <p className="banner banner--warn" role="status">
          The market monitor is degraded: {monitor.last_error ?? 'the last cycle failed'}. It retries every cycle.
        </p>
      )}
      {Object.keys(refused).length > 0 && (
        <p className="banner banner--warn" role="status">
          No live quotes for {Object.entries(refused).map(([t, why]) => `${t} (${why})`).join('; ')}.
        </p>
      )}
      {loadError && (
        <p className="form-error" role="alert">
          Could not load your symbols: {loadError}
        </p>
      )}
      {!loaded ? (
        <p className="muted">Loading your symbols…</p>
      ) : symbols.length === 0 ? (
        <EmptyState title="Add a symbol to start">
          Type a ticker above, for example <strong>BTC</strong> (crypto) or <strong>AAPL</strong> (a stock), then press Add.
        </EmptyState>
      ) : (
        <>
          {!monitorOn && Object.keys(quotes).length === 0 && (
            <EmptyState title="Start the monitor to see live prices" action={<MonitorSwitch running={false} primary />}>
              The market monitor fetches quotes for the symbols you watch every cycle and pushes them here live.
            </EmptyState>
          )}
          <div className="table-wrap">
            <table className="table watchlist" aria-label="Watched symbols">
              <thead>
                <tr>
                  <th scope="col">Symbol</th>
                  <th scope="col" className="num">
                    Price
                  </th>
                  <th scope="col" className="num">
                    Change
                  </th>
                  <th scope="col">Trend</th>
                  <th scope="col" className="num hide-sm">
                    Volume
                  </th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {symbols.map((s) => (
                  <Row key={s.id} symbol={s} quote={quotes[s.symbol]} spark={sparks[s.symbol] ?? []} monitorOn={monitorOn} />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </main>
  );
}

function Row({ symbol, quote, spark, monitorOn }: { symbol: WatchedSymbol; quote?: Quote; spark: number[]; monitorOn: boolean }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const dir = trend(quote?.change_pct);
  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await removeSymbol(symbol.id);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }
  return (
    <tr data-testid={`row-${symbol.symbol}`}>
      <th scope="row">
        <Link href={`/chart/${encodeURIComponent(symbol.symbol)}`} className="ticker" aria-label={`${symbol.symbol} chart`}>
          {symbol.symbol}
        </Link>
        <span className="sub">
          {symbol.name ?? symbol.asset_class} · {symbol.asset_class}
        </span>
        {error && (
          <span className="field__error" role="alert">
            {error}
          </span>
        )}
      </th>
      <td className="num price" data-testid={`price-${symbol.symbol}`}>
        {quote ? formatPrice(quote.price, symbol.asset_class, symbol.tick_size) : <span className="muted">{monitorOn ? 'waiting…' : '—'}</span>}
        {quote && (
          <span className="sub" title={quote.ts}>
            {formatAgo(quote.ts)}
          </span>
        )}
      </td>
      <td className={`num change change--${dir}`} data-testid={`change-${symbol.symbol}`}>
        {quote ? formatPct(quote.change_pct) : '—'}
      </td>
      <td className="spark-cell">
        <Sparkline points={spark} label={`${symbol.symbol} trend`} />
      </td>
      <td className="num hide-sm">{formatVolume(quote?.volume)}</td>
      <td className="actions">
        <button type="button" className="btn btn--small btn--ghost" onClick={remove} disabled={busy} aria-label={`Remove ${symbol.symbol}`}>
          {busy ? '…' : (
            <>
              <span className="hide-sm">Remove</span>
              <span className="show-sm" aria-hidden="true">
                ✕
              </span>
            </>
          )}
        </button>
      </td>
    </tr>
  );
}

function AddSymbolForm() {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!text.trim()) {
      setError('Type a ticker first, e.g. BTC or AAPL.');
      return;
    }
    setBusy(true);
    setError(null);
    setAdded(null);
    try {
      const s = await addSymbol(text);
      setAdded(`${s.symbol} (${s.name ?? s.asset_class}) is on your list.`);
      setText('');
    } catch (err) {
      if (err instanceof ApiError) {
        // The server's message says best what is wrong (unknown ticker, provider outage…).
        const detail = err.field('symbol');
        const wait = err.status === 503 && err.retryAfter ? ` Try again in ${err.retryAfter} s.` : '';
        setError(detail && !err.message.includes(detail) && detail !== text.trim().toUpperCase() ? `${err.message} (${detail})${wait}` : `${err.message}${wait}`);
      } else setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="add-symbol" onSubmit={submit} noValidate>
      <div className={`field field--inline ${error ? 'field--invalid' : ''}`}>
        <label htmlFor="add-symbol">Add a symbol</label>
        <div className="field__row">
          <input
            id="add-symbol"
            name="symbol"
            placeholder="BTC, AAPL, ETH/USDT…"
            autoComplete="off"
            autoCapitalize="characters"
            spellCheck={false}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              if (error) setError(null);
            }}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'add-symbol-error' : 'add-symbol-hint'}
          />
          <button type="submit" className="btn btn--primary" disabled={busy}>
            {busy ? 'Checking…' : 'Add'}
          </button>
        </div>
        {error ? (
          <p className="field__error" id="add-symbol-error" role="alert" data-testid="add-symbol-error">
            {error}
          </p>
        ) : (
          <p className="field__hint" id="add-symbol-hint" role="status">
            {added ?? 'Crypto resolves to its USDT pair on Bybit (BTC → BTCUSDT); stocks come from Yahoo.'}
          </p>
        )}
      </div>
    </form>
  );
}

function MonitorSwitch({ running, primary }: { running: boolean; primary?: boolean }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function toggle() {
    setBusy(true);
    setError(null);
    try {
      await controlAgent('market-monitor', running ? 'stop' : 'start');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <span className="inline-control">
      <button type="button" className={`btn ${primary ? 'btn--primary' : ''}`} onClick={toggle} disabled={busy}>
        {running ? 'Stop the monitor' : 'Start the monitor'}
      </button>
      {error && (
        <span className="field__error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
