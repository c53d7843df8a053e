import { useEffect, useState } from 'react';
import { describeError } from '../../api/errors';
import type { Decision, Statistics, WatchedSymbol } from '../../api/types';
import { EmptyState } from '../../components/EmptyState';
import { Link } from '../../components/Link';
import { formatPct, formatPrice, formatRatio } from '../../format/numbers';
import { formatAgo, formatMarketTime } from '../../format/time';
import { agents, controlAgent } from '../../state/agents';
import { decideNow, decisions, loadStatistics } from '../../state/decisions';
import { market } from '../../state/market';
import { useStore } from '../../state/store';
import { reliabilitySeries } from './reliability';
import { ReliabilityChart } from './ReliabilityChart';
import { SignalBars } from './SignalBars';

export function DecisionsScreen() {
  const items = useStore(decisions, (s) => s.items);
  const loaded = useStore(decisions, (s) => s.loaded);
  const loadError = useStore(decisions, (s) => s.loadError);
  const total = useStore(decisions, (s) => s.total);
  const stats = useStore(decisions, (s) => s.stats);
  const statsError = useStore(decisions, (s) => s.statsError);
  const symbols = useStore(market, (s) => s.symbols);
  const maker = useStore(agents, (s) => s['decision-maker']);
  const [filter, setFilter] = useState<string>('');
  const [limit, setLimit] = useState(20);

  // Statistics move with every decision; refresh them now and then while the screen is open.
  useEffect(() => {
    loadStatistics();
    const t = setInterval(loadStatistics, 15_000);
    return () => clearInterval(t);
  }, []);

  const shown = filter ? items.filter((d) => d.symbol === filter) : items;
  const makerOn = maker?.state === 'running' || maker?.state === 'degraded';

  return (
    <main id="main" className="screen">
      <header className="screen__head">
        <h1>Decisions</h1>
        <AutoDecide running={makerOn} />
      </header>
      {maker?.state === 'degraded' && (
        <p className="banner banner--warn" role="status">
          The decision maker is degraded: {maker.last_error}
        </p>
      )}
      <div className="grid grid--2">
        <section className="card" aria-labelledby="decide-now-title">
          <h2 id="decide-now-title">Decide now</h2>
          {symbols.length === 0 ? (
            <EmptyState title="Add a symbol to start" action={<Link className="btn btn--primary" href="/">Go to the watch list</Link>}>
              Decisions are made per watched symbol from its stored bars.
            </EmptyState>
          ) : (
            <ul className="decide-list">
              {symbols.map((s) => (
                <DecideRow key={s.id} symbol={s} />
              ))}
            </ul>
          )}
        </section>
        <StatsPanel stats={stats} error={statsError} />
      </div>
      <section aria-labelledby="feed-title" className="feed">
        <div className="feed__head">
          <h2 id="feed-title">
            Feed <span className="muted small">{total != null ? `${total} in all` : ''}</span>
          </h2>
          {symbols.length > 1 && (
            <div className="field field--inline">
              <label htmlFor="feed-filter">Symbol</label>
              <select id="feed-filter" value={filter} onChange={(e) => setFilter(e.target.value)}>
                <option value="">All</option>
                {symbols.map((s) => (
                  <option key={s.id} value={s.symbol}>
                    {s.symbol}
                  </option>
                ))}
              </select>
            </div>
          )}
        </div>
        {loadError && (
          <p className="form-error" role="alert">
            Could not load decisions: {loadError}
          </p>
        )}
        {!loaded ? (
          <p className="muted">Loading decisions…</p>
        ) : shown.length === 0 ? (
          <EmptyState title="No decisions yet">
            {symbols.length === 0
              ? 'Add a symbol, start the monitor, then press Decide now.'
              : 'Press Decide now for a symbol, or turn auto-decide on: the decision maker then decides on every fresh bar.'}
          </EmptyState>
        ) : (
          <ol className="feed__list" data-testid="decision-feed">
            {shown.slice(0, limit).map((d) => (
              <DecisionCard key={d.id} decision={d} assetClass={symbols.find((s) => s.id === d.symbol_id)?.asset_class} />
            ))}
          </ol>
        )}
        {shown.length > limit && (
          <button type="button" className="btn show-more" onClick={() => setLimit((n) => n + 20)}>
            Show {Math.min(20, shown.length - limit)} more
          </button>
        )}
      </section>
    </main>
  );
}

function DecideRow({ symbol }: { symbol: WatchedSymbol }) {
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  async function go() {
    setBusy(true);
    setMsg(null);
    try {
      const d = await decideNow(symbol.id);
      setMsg({ ok: true, text: `${d.action} (${Math.round(d.confidence * 100)} %)` });
    } catch (err) {
      // 409: too few bars yet; the server says how many it needs.
      setMsg({ ok: false, text: describeError(err) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <li className="decide-list__row">
      <span className="ticker">{symbol.symbol}</span>
      <button type="button" className="btn btn--small btn--primary" onClick={go} disabled={busy} aria-label={`Decide now for ${symbol.symbol}`}>
        {busy ? 'Deciding…' : 'Decide now'}
      </button>
      {msg && (
        <span className={msg.ok ? 'small muted' : 'field__error'} role={msg.ok ? 'status' : 'alert'} data-testid={`decide-msg-${symbol.symbol}`}>
          {msg.text}
        </span>
      )}
    </li>
  );
}

function AutoDecide({ running }: { running: boolean }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function toggle() {
    setBusy(true);
    setError(null);
    try {
      await controlAgent('decision-maker', running ? 'stop' : 'start');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <span className="inline-control">
      <button type="button" className="btn" onClick={toggle} disabled={busy} aria-pressed={running}>
        Auto-decide {running ? 'on' : 'off'}
      </button>
      {error && (
        <span className="field__error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

export function DecisionCard({ decision: d, assetClass }: { decision: Decision; assetClass?: string }) {
  const p = d.probabilities;
  return (
    <li className={`decision card decision--${d.action.toLowerCase()}`} data-testid="decision-card" data-decision-id={d.id}>
      <div className="decision__head">
        <span className={`action action--${d.action.toLowerCase()}`}>{d.action}</span>
        <Link className="ticker" href={`/chart/${encodeURIComponent(d.symbol)}`}>
          {d.symbol}
        </Link>
        <span className="decision__conf" title="Calibrated probability that this action is right at its horizon">
          {formatRatio(d.confidence, 0)} confidence
        </span>
        <span className="muted small">
          {d.model}
          {d.model_version ? ` ${d.model_version}` : ''}
        </span>
        <span className="muted small decision__time" title={d.created_at}>
          bar {formatMarketTime(d.bar_time, d.interval === '1d')} · {formatAgo(d.created_at)}
        </span>
      </div>
      {p && (
        <div className="probs" aria-label={`Probabilities: up ${formatRatio(p.up, 0)}, flat ${formatRatio(p.flat, 0)}, down ${formatRatio(p.down, 0)}`}>
          <span className="probs__bar" aria-hidden="true">
            <span className="probs__up" style={{ width: `${p.up * 100}%` }} />
            <span className="probs__flat" style={{ width: `${p.flat * 100}%` }} />
            <span className="probs__down" style={{ width: `${p.down * 100}%` }} />
          </span>
          <span className="small">
            up {formatRatio(p.up, 0)} · flat {formatRatio(p.flat, 0)} · down {formatRatio(p.down, 0)}
          </span>
        </div>
      )}
      <p className="decision__reason">{d.reasoning}</p>
      <SignalBars decision={d} />
      <p className="small muted">
        Price {formatPrice(d.price, assetClass)}
        {d.horizon_bars ? ` · horizon ${d.horizon_bars} bars` : ''}
        {d.outcome_correct != null && (
          <>
            {' · '}
            <strong className={d.outcome_correct ? 'change--up' : 'change--down'}>{d.outcome_correct ? 'right' : 'wrong'}</strong>
            {d.outcome_return != null && ` (${formatPct(d.outcome_return * 100)})`}
          </>
        )}
      </p>
    </li>
  );
}

function StatsPanel({ stats, error }: { stats: Statistics | null; error: string | null }) {
  const series = reliabilitySeries(stats);
  return (
    <section className="card" aria-labelledby="stats-title" data-testid="stats">
      <h2 id="stats-title">Statistics</h2>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {!stats ? (
        <p className="muted">{error ? '' : 'Loading…'}</p>
      ) : stats.total === 0 ? (
        <EmptyState title="Nothing to score yet">Statistics appear once decisions exist; each is scored when its horizon has passed.</EmptyState>
      ) : (
        <>
          <dl className="stats">
            <div>
              <dt>Decisions</dt>
              <dd data-testid="stats-total">{stats.total}</dd>
            </div>
            <div>
              <dt>Mean confidence</dt>
              <dd>{formatRatio(stats.mean_confidence)}</dd>
            </div>
            <div>
              <dt>Scored</dt>
              <dd>{stats.scored}</dd>
            </div>
            <div>
              <dt>Hit rate</dt>
              <dd>{stats.scored ? formatRatio(stats.hit_rate) : 'none scored yet'}</dd>
            </div>
          </dl>
          <table className="table table--compact">
            <caption className="sr-only">By action</caption>
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col" className="num">
                  Count
                </th>
                <th scope="col" className="num">
                  Mean conf.
                </th>
                <th scope="col" className="num">
                  Hit rate
                </th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(stats.by_action).map(([action, b]) => (
                <tr key={action}>
                  <th scope="row">
                    <span className={`action action--${action.toLowerCase()}`}>{action}</span>
                  </th>
                  <td className="num">{b.count}</td>
                  <td className="num">{formatRatio(b.mean_confidence)}</td>
                  <td className="num">{b.scored ? `${formatRatio(b.hit_rate)} of ${b.scored}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {series ? (
            <ReliabilityChart series={series} />
          ) : (
            <p className="small muted">The reliability chart (confidence against the realised hit rate) appears once scored decisions fill its bins.</p>
          )}
        </>
      )}
    </section>
  );
}
