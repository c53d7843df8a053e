import { useState, type FormEvent } from 'react';
import { ApiError, describeError } from '../../api/errors';
import type { PaperSettings, Portfolio } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { Link } from '../../components/Link';
import { StatePill } from '../../components/StatePill';
import { formatMoney, formatPct, formatPrice, formatQuantity, trend } from '../../format/numbers';
import { formatAgo, formatMarketTime } from '../../format/time';
import { agents, controlAgent, haltedUntil } from '../../state/agents';
import { market } from '../../state/market';
import { configurePortfolio, portfolio, resetPortfolio } from '../../state/portfolio';
import { useStore } from '../../state/store';
import { EquityCurve } from './EquityCurve';

export function PortfolioScreen() {
  const p = useStore(portfolio, (s) => s.portfolio);
  const loaded = useStore(portfolio, (s) => s.loaded);
  const loadError = useStore(portfolio, (s) => s.loadError);
  const orders = useStore(portfolio, (s) => s.orders);
  const ordersTotal = useStore(portfolio, (s) => s.ordersTotal);
  const equity = useStore(portfolio, (s) => s.equity);
  const equityFrom = useStore(portfolio, (s) => s.equityFrom);
  const execution = useStore(agents, (s) => s.execution);
  const symbols = useStore(market, (s) => s.symbols);
  const [dialog, setDialog] = useState<'reset' | 'configure' | null>(null);
  const [limit, setLimit] = useState(20);
  const [filledOnly, setFilledOnly] = useState(false);
  const listed = filledOnly ? orders.filter((o) => o.status === 'filled') : orders;
  const running = execution?.state === 'running' || execution?.state === 'degraded';
  const halted = haltedUntil(execution) ?? (p?.halted_until && Date.parse(p.halted_until) > Date.now() ? p.halted_until : null);
  const assetOf = (id: number) => symbols.find((s) => s.id === id)?.asset_class;

  return (
    <main id="main" className="screen">
      <header className="screen__head">
        <h1>
          Paper portfolio <span className="tag">paper only</span>
        </h1>
        <div className="inline-control">
          <StatePill state={execution?.state} halted={Boolean(halted)} />
          <ExecutionSwitch running={running} />
          <button type="button" className="btn" onClick={() => setDialog('configure')} disabled={!p}>
            Configure…
          </button>
          <button type="button" className="btn btn--danger-ghost" onClick={() => setDialog('reset')} disabled={!p}>
            Reset…
          </button>
        </div>
      </header>
      {halted && (
        <p className="banner banner--warn" role="status">
          <strong>Paper buys halted until {formatMarketTime(halted)}</strong>: {execution?.last_error ?? 'the daily loss limit was hit'}. Sells still fill.
        </p>
      )}
      {execution?.state === 'degraded' && (
        <p className="banner banner--warn" role="status">
          Paper execution is degraded: {execution.last_error}
        </p>
      )}
      {loadError && (
        <p className="form-error" role="alert">
          Could not load the portfolio: {loadError}
        </p>
      )}
      {!loaded || !p ? (
        !loadError && <p className="muted">Loading the portfolio…</p>
      ) : (
        <>
          <Summary p={p} />
          <section className="card" aria-labelledby="equity-title">
            <h2 id="equity-title">Equity</h2>
            {equity.length >= 2 ? (
              <EquityCurve points={equity} baseline={p.starting_cash} />
            ) : (
              <EmptyState title="The equity curve starts with the first update">
                {running ? 'Equity is marked at every market cycle; the curve grows as updates arrive.' : 'Start paper execution (and the market monitor) to see equity move.'}
              </EmptyState>
            )}
            <p className="small muted">
              {equityFrom === 'session'
                ? 'Drawn from the equity updates received since this page opened (the server keeps no equity history yet).'
                : equityFrom === 'server'
                  ? 'History from the server, extended live.'
                  : ''}
            </p>
          </section>
          <section className="card" aria-labelledby="positions-title">
            <h2 id="positions-title">Positions</h2>
            {p.positions.length === 0 ? (
              <EmptyState title="No open positions">
                {running ? 'A BUY decision opens one; ' : 'Start paper execution, then a BUY decision opens one; '}
                <Link href="/decisions">see the decisions</Link>.
              </EmptyState>
            ) : (
              <div className="table-wrap">
                <table className="table" data-testid="positions">
                  <thead>
                    <tr>
                      <th scope="col">Symbol</th>
                      <th scope="col" className="num">
                        Quantity
                      </th>
                      <th scope="col" className="num">
                        Avg price
                      </th>
                      <th scope="col" className="num">
                        Mark
                      </th>
                      <th scope="col" className="num">
                        Value
                      </th>
                      <th scope="col" className="num">
                        Unrealised
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {p.positions.map((pos) => (
                      <tr key={pos.symbol_id}>
                        <th scope="row">
                          <Link className="ticker" href={`/chart/${encodeURIComponent(pos.symbol)}`}>
                            {pos.symbol}
                          </Link>
                        </th>
                        <td className="num">{formatQuantity(pos.quantity, pos.asset_class)}</td>
                        <td className="num">{formatPrice(pos.avg_price, pos.asset_class)}</td>
                        <td className="num">{formatPrice(pos.price, pos.asset_class)}</td>
                        <td className="num">{formatMoney(pos.market_value)}</td>
                        <td className={`num change--${trend(pos.unrealised_pnl)}`}>{formatMoney(pos.unrealised_pnl, true)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section className="card" aria-labelledby="orders-title">
            <div className="feed__head">
              <h2 id="orders-title">
                Orders <span className="muted small">{ordersTotal != null ? `${ordersTotal} in all` : ''}</span>
              </h2>
              <label className="check">
                <input type="checkbox" checked={filledOnly} onChange={(e) => setFilledOnly(e.target.checked)} /> Filled only
              </label>
            </div>
            {listed.length === 0 ? (
              <EmptyState title={orders.length ? 'No filled orders yet' : 'No paper orders yet'}>
                {running
                  ? 'Orders appear when a BUY or SELL decision arrives; turn on auto-decide or press Decide now.'
                  : 'Start paper execution; BUY and SELL decisions then become paper orders here.'}
              </EmptyState>
            ) : (
              <div className="table-wrap">
                <table className="table" data-testid="orders">
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Symbol</th>
                      <th scope="col">Side</th>
                      <th scope="col">Status</th>
                      <th scope="col" className="num">
                        Qty
                      </th>
                      <th scope="col" className="num">
                        Price
                      </th>
                      <th scope="col" className="num hide-sm">
                        Fee
                      </th>
                      <th scope="col" className="num hide-sm">
                        Realised
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {listed.slice(0, limit).map((o) => (
                      <tr key={o.id} data-testid="order-row">
                        <td title={o.created_at}>{formatAgo(o.created_at)}</td>
                        <th scope="row">{o.symbol}</th>
                        <td>
                          <span className={`action action--${o.side.toLowerCase()}`}>{o.side}</span>
                        </td>
                        <td>
                          {o.status}
                          {o.reason && <span className="sub">{o.reason}</span>}
                        </td>
                        <td className="num">{formatQuantity(o.quantity, assetOf(o.symbol_id))}</td>
                        <td className="num">{o.price != null ? formatPrice(o.price, assetOf(o.symbol_id)) : '—'}</td>
                        <td className="num hide-sm">{formatMoney(o.fee)}</td>
                        <td className="num hide-sm">{o.realised_pnl != null ? formatMoney(o.realised_pnl, true) : '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {listed.length > limit && (
                  <button type="button" className="btn show-more" onClick={() => setLimit((n) => n + 20)}>
                    Show {Math.min(20, listed.length - limit)} more
                  </button>
                )}
              </div>
            )}
          </section>
        </>
      )}
      {dialog === 'reset' && p && <ResetDialog p={p} onClose={() => setDialog(null)} />}
      {dialog === 'configure' && p && <ConfigureDialog settings={p.settings} onClose={() => setDialog(null)} />}
    </main>
  );
}

function Summary({ p }: { p: Portfolio }) {
  const tiles: Array<[string, string, string?, string?]> = [
    ['Equity', formatMoney(p.equity), undefined, 'equity'],
    ['Cash', formatMoney(p.cash), undefined, 'cash'],
    ['Realised PnL', formatMoney(p.realised_pnl, true), trend(p.realised_pnl)],
    ['Unrealised PnL', formatMoney(p.unrealised_pnl, true), trend(p.unrealised_pnl)],
    ['Net PnL', `${formatMoney(p.net_pnl, true)} (${formatPct(p.return_pct)})`, trend(p.net_pnl)],
    ['Fees paid', formatMoney(p.fees_paid)],
  ];
  return (
    <dl className="tiles" aria-label="Portfolio summary">
      {tiles.map(([label, value, dir, id]) => (
        <div className="tile card" key={label}>
          <dt>{label}</dt>
          <dd className={dir ? `change--${dir}` : ''} data-testid={id ? `tile-${id}` : undefined}>
            {value}
          </dd>
        </div>
      ))}
      <div className="tile card">
        <dt>Starting cash</dt>
        <dd>{formatMoney(p.starting_cash)}</dd>
      </div>
    </dl>
  );
}

function ExecutionSwitch({ running }: { running: boolean }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function toggle() {
    setBusy(true);
    setError(null);
    try {
      await controlAgent('execution', running ? 'stop' : 'start');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <button type="button" className={`btn ${running ? '' : 'btn--primary'}`} onClick={toggle} disabled={busy}>
        {running ? 'Stop paper execution' : 'Start paper execution'}
      </button>
      {error && (
        <span className="field__error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

function ResetDialog({ p, onClose }: { p: Portfolio; onClose: () => void }) {
  const [cash, setCash] = useState(String(p.starting_cash));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | string | null>(null);
  async function confirm() {
    const value = Number(cash);
    if (!Number.isFinite(value) || value <= 0) {
      setError('Enter a positive amount.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await resetPortfolio(value);
      onClose();
    } catch (err) {
      setError(err instanceof ApiError ? err : describeError(err));
      setBusy(false);
    }
  }
  const fieldErr = typeof error === 'string' ? error : error?.field('starting_cash');
  return (
    <ConfirmDialog title="Reset the paper portfolio?" confirmLabel="Reset" danger busy={busy} onConfirm={confirm} onCancel={onClose}>
      <p>
        This closes every paper position and deletes all {p.last_orders.length ? 'paper orders' : 'orders'}; cash goes back to the starting cash. Decisions made before the reset never fill
        afterwards. It cannot be undone.
      </p>
      <div className={`field ${fieldErr ? 'field--invalid' : ''}`}>
        <label htmlFor="reset-cash">Starting cash (USD)</label>
        <input id="reset-cash" inputMode="decimal" value={cash} onChange={(e) => setCash(e.target.value)} aria-invalid={fieldErr ? true : undefined} aria-describedby={fieldErr ? 'reset-cash-error' : undefined} />
        {fieldErr && (
          <p className="field__error" id="reset-cash-error" role="alert">
            {fieldErr}
          </p>
        )}
      </div>
      {error instanceof ApiError && !fieldErr && (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      )}
    </ConfirmDialog>
  );
}

const SETTINGS: Array<{ key: keyof PaperSettings; label: string; hint: string; percent?: boolean }> = [
  { key: 'position_fraction', label: 'Position size (fraction of equity, × confidence)', hint: '0-1, e.g. 0.1', percent: false },
  { key: 'max_position_pct', label: 'Largest position (fraction of equity)', hint: 'above 0, up to 1' },
  { key: 'max_positions', label: 'Most open positions', hint: '1-1000' },
  { key: 'daily_loss_pct', label: 'Daily loss limit (fraction of equity)', hint: 'above 0, up to 1; buys halt until UTC midnight' },
  { key: 'cooldown', label: 'Cool-down per symbol (s)', hint: 'seconds between fills of one symbol' },
  { key: 'fee_crypto', label: 'Crypto fee per side (fraction)', hint: '0.001 = 0.1 %' },
  { key: 'fee_stock', label: 'Stock fee per side (fraction)', hint: '0-0.1' },
  { key: 'slippage', label: 'Slippage without bid/ask (fraction)', hint: '0.0005 = 5 bp' },
  { key: 'max_quote_age', label: 'Oldest quote that fills (s)', hint: 'older quotes get no fill' },
];

function ConfigureDialog({ settings, onClose }: { settings: PaperSettings; onClose: () => void }) {
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(SETTINGS.map((s) => [s.key, String(settings[s.key] ?? '')])));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | string | null>(null);
  const changed = SETTINGS.filter((s) => values[s.key] !== String(settings[s.key] ?? ''));

  async function confirm(e?: FormEvent) {
    e?.preventDefault();
    const body: Partial<PaperSettings> = {};
    for (const s of changed) {
      const n = Number(values[s.key]);
      if (values[s.key].trim() === '' || !Number.isFinite(n)) {
        setError(`${s.label}: enter a number.`);
        return;
      }
      (body as Record<string, number>)[s.key] = n;
    }
    if (!changed.length) {
      onClose();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await configurePortfolio(body);
      onClose();
    } catch (err) {
      setError(err instanceof ApiError ? err : describeError(err));
      setBusy(false);
    }
  }

  const fieldErr = (key: string) => (error instanceof ApiError ? (error.field(`settings.${key}`) ?? error.field(key)) : undefined);
  return (
    <ConfirmDialog title="Configure paper trading" confirmLabel={changed.length ? `Save ${changed.length} change${changed.length === 1 ? '' : 's'}` : 'Close'} busy={busy} onConfirm={() => confirm()} onCancel={onClose}>
      <form className="settings-form" onSubmit={confirm} noValidate>
        <p className="small muted">Your overrides apply to the next paper orders; filled orders stay as they are.</p>
        {SETTINGS.map((s) => {
          const err = fieldErr(s.key);
          return (
            <div key={s.key} className={`field ${err ? 'field--invalid' : ''}`}>
              <label htmlFor={`set-${s.key}`}>{s.label}</label>
              <input
                id={`set-${s.key}`}
                inputMode="decimal"
                value={values[s.key]}
                onChange={(e) => setValues((v) => ({ ...v, [s.key]: e.target.value }))}
                aria-invalid={err ? true : undefined}
                aria-describedby={`set-${s.key}-note`}
              />
              <p className={err ? 'field__error' : 'field__hint'} id={`set-${s.key}-note`} role={err ? 'alert' : undefined}>
                {err ?? s.hint}
              </p>
            </div>
          );
        })}
        {typeof error === 'string' && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {error instanceof ApiError && (
          <p className="form-error" role="alert">
            {error.message}
          </p>
        )}
        <button type="submit" hidden />
      </form>
    </ConfirmDialog>
  );
}
