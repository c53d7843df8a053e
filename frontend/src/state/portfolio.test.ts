import { beforeEach, describe, expect, it } from 'vitest';
import { tokens } from '../api/tokens';
import { jwt, mockFetch } from '../test/helpers';
import { applyExecutionStatus, loadEquity, portfolio } from './portfolio';

const status = (equity: number) => ({ agent: 'execution' as const, state: 'running', last_run_at: null, last_success_at: null, last_error: null, cycles: 1, equity, cash: 5000 });

describe('equity curve', () => {
  beforeEach(() => {
    portfolio.reset();
    tokens.set({ access: jwt({ exp: Math.floor(Date.now() / 1000) + 900 }), refresh: 'r' });
  });

  it('uses GET /portfolio/equity/ when the server has it, extended by live updates', async () => {
    mockFetch({ 'GET /api/trading/portfolio/equity/': { body: [{ ts: '2026-12-01T10:00:00Z', equity: 10000, cash: 10000 }, { ts: '2026-12-01T11:00:00Z', equity: 10010, cash: 9000 }] } });
    await loadEquity();
    expect(portfolio.get().equityFrom).toBe('server');
    applyExecutionStatus(status(10020), '2026-12-01T12:00:00Z');
    expect(portfolio.get().equity.map((p) => p.equity)).toEqual([10000, 10010, 10020]);
  });

  it('builds the curve from agent_status events while the endpoint is a 404', async () => {
    mockFetch({});
    await loadEquity();
    expect(portfolio.get().equityFrom).toBe('session');
    applyExecutionStatus(status(9990), '2026-12-01T12:00:00Z');
    applyExecutionStatus(status(9995), '2026-12-01T12:00:01Z');
    applyExecutionStatus(status(9999), '2026-12-01T12:00:01Z'); // same moment: replaced, not added
    expect(portfolio.get().equity).toEqual([
      { ts: '2026-12-01T12:00:00Z', equity: 9990, cash: 5000 },
      { ts: '2026-12-01T12:00:01Z', equity: 9999, cash: 5000 },
    ]);
  });
});
