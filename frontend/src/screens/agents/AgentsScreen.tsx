import { useEffect, useState } from 'react';
import { describeError } from '../../api/errors';
import { AGENTS, type AgentName, type AgentStatus } from '../../api/types';
import { StatePill } from '../../components/StatePill';
import { formatMoney } from '../../format/numbers';
import { formatAgo, formatClock, formatMarketTime } from '../../format/time';
import { agents, controlAgent, haltedUntil, loadAgents } from '../../state/agents';
import { useStore } from '../../state/store';

const ABOUT: Record<AgentName, { title: string; does: string; startHint: string }> = {
  'market-monitor': {
    title: 'Market monitor',
    does: 'Fetches quotes and bars for your symbols every cycle and pushes them live.',
    startHint: 'Start the monitor to see live prices.',
  },
  'decision-maker': {
    title: 'Decision maker',
    does: 'Decides BUY, SELL or HOLD on every fresh complete bar (auto-decide).',
    startHint: 'Start it to get a decision on every fresh bar; Decide now works either way.',
  },
  execution: {
    title: 'Paper execution',
    does: 'Turns BUY and SELL decisions into paper orders. It never sends a real order.',
    startHint: 'Start it to paper-trade the decisions.',
  },
};

export function AgentsScreen() {
  const state = useStore(agents);
  const [, tick] = useState(0);
  // "12 s ago" keeps moving.
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 5_000);
    return () => clearInterval(t);
  }, []);
  return (
    <main id="main" className="screen">
      <header className="screen__head">
        <h1>Agents</h1>
        <button type="button" className="btn btn--ghost" onClick={() => loadAgents()}>
          Refresh
        </button>
      </header>
      {state.loadError && (
        <p className="form-error" role="alert">
          Could not load the agents: {state.loadError}
        </p>
      )}
      <div className="grid grid--3">
        {AGENTS.map((name) => (
          <AgentCard key={name} name={name} status={state[name]} />
        ))}
      </div>
    </main>
  );
}

function AgentCard({ name, status }: { name: AgentName; status: AgentStatus | null }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const about = ABOUT[name];
  const running = status?.state === 'running' || status?.state === 'degraded';
  const halted = haltedUntil(status);

  async function toggle() {
    setBusy(true);
    setError(null);
    try {
      await controlAgent(name, running ? 'stop' : 'start');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className={`card agent agent--${status?.state ?? 'unknown'}`} aria-labelledby={`agent-${name}`} data-testid={`agent-${name}`}>
      <header className="agent__head">
        <h2 id={`agent-${name}`}>{about.title}</h2>
        <StatePill state={status?.state} halted={Boolean(halted)} />
      </header>
      <p className="small muted">{about.does}</p>
      {!status ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          {status.state === 'degraded' && (
            <p className="banner banner--warn" role="status">
              <strong>Degraded:</strong> {status.last_error ?? 'the last run failed'}. It keeps retrying; the next clean run makes it running again.
            </p>
          )}
          {status.state === 'error' && (
            <p className="banner banner--error" role="status">
              <strong>Error:</strong> {status.last_error ?? 'the agent failed'}
            </p>
          )}
          {halted && (
            <p className="banner banner--warn" role="status" data-testid="halted">
              <strong>Paper buys halted until {formatMarketTime(halted)}</strong>
              {status.last_error ? `: ${status.last_error}` : ': the daily loss limit was hit'}. Sells still fill.
            </p>
          )}
          <dl className="facts">
            <div>
              <dt>Last run</dt>
              <dd title={formatClock(status.last_run_at)}>{formatAgo(status.last_run_at)}</dd>
            </div>
            <div>
              <dt>Last success</dt>
              <dd title={formatClock(status.last_success_at)}>{formatAgo(status.last_success_at)}</dd>
            </div>
            <div>
              <dt>Last error</dt>
              <dd className={status.last_error ? 'change--down' : ''}>{status.last_error ?? 'none'}</dd>
            </div>
            <div>
              <dt>Cycles</dt>
              <dd>{status.cycles}</dd>
            </div>
            {status.symbols_watched != null && (
              <div>
                <dt>Symbols</dt>
                <dd>{status.symbols_watched}</dd>
              </div>
            )}
            {name === 'execution' && status.equity != null && (
              <>
                <div>
                  <dt>Equity</dt>
                  <dd>{formatMoney(status.equity)}</dd>
                </div>
                <div>
                  <dt>Cash</dt>
                  <dd>{formatMoney(status.cash)}</dd>
                </div>
                <div>
                  <dt>Realised / unrealised</dt>
                  <dd>
                    {formatMoney(status.realised_pnl, true)} / {formatMoney(status.unrealised_pnl, true)}
                  </dd>
                </div>
              </>
            )}
            {name === 'execution' && status.counters && (
              <div>
                <dt>Orders</dt>
                <dd>
                  {Number(status.counters.orders_filled ?? 0)} filled, {Number(status.counters.orders_rejected ?? 0)} rejected
                </dd>
              </div>
            )}
          </dl>
          {!running && <p className="small">{about.startHint}</p>}
        </>
      )}
      <div className="agent__actions">
        <button type="button" className={`btn ${running ? '' : 'btn--primary'}`} onClick={toggle} disabled={busy || !status} data-testid={`toggle-${name}`} aria-label={`${running ? 'Stop' : 'Start'} ${about.title.toLowerCase()}`}>
          {busy ? 'Working…' : running ? 'Stop' : 'Start'}
        </button>
        {error && (
          <span className="field__error" role="alert">
            {error}
          </span>
        )}
      </div>
    </section>
  );
}
