import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { tokens } from '../../api/tokens';
import type { Portfolio } from '../../api/types';
import { agents } from '../../state/agents';
import { applyExecutionStatus, applyOrder, portfolio } from '../../state/portfolio';
import { jwt, mockFetch } from '../../test/helpers';
import { PortfolioScreen } from './PortfolioScreen';

const settings = { cooldown: 5, daily_loss_pct: 0.05, fee_crypto: 0.001, fee_stock: 0, max_position_pct: 0.25, max_positions: 10, max_quote_age: 300, position_fraction: 0.1, slippage: 0.0005 };
const book: Portfolio = {
  mode: 'paper', currency: 'USD', starting_cash: 10000, cash: 10000, equity: 10000, positions_value: 0, realised_pnl: 0, unrealised_pnl: 0, fees_paid: 0,
  net_pnl: 0, return_pct: 0, halted_until: null, day_start_equity: null, settings, positions: [], last_orders: [],
};

describe('PortfolioScreen', () => {
  beforeEach(() => {
    portfolio.reset();
    agents.reset();
    tokens.set({ access: jwt({ exp: Math.floor(Date.now() / 1000) + 900 }), refresh: 'r' });
  });

  it('says what to do with an empty portfolio', () => {
    portfolio.set((s) => ({ ...s, loaded: true, portfolio: book, equityFrom: 'session' }));
    render(<PortfolioScreen />);
    expect(screen.getByText('No open positions')).toBeTruthy();
    expect(screen.getByText('No paper orders yet')).toBeTruthy();
    expect(screen.getByText('The equity curve starts with the first update')).toBeTruthy();
    expect(screen.getByText(/Start paper execution \(and the market monitor\)/)).toBeTruthy();
  });

  it('builds the equity curve from agent_status events and lists new orders', () => {
    portfolio.set((s) => ({ ...s, loaded: true, portfolio: book, equityFrom: 'session' }));
    mockFetch({ 'GET /api/trading/portfolio/': { body: book } });
    render(<PortfolioScreen />);
    const status = (equity: number) => ({ agent: 'execution' as const, state: 'running', last_run_at: null, last_success_at: null, last_error: null, cycles: 1, equity, cash: 9460.66, realised_pnl: 0, unrealised_pnl: equity - 10000 });
    act(() => {
      applyExecutionStatus(status(9980.2), '2026-12-01T19:13:50Z');
      applyExecutionStatus(status(9983.07), '2026-12-01T19:13:51Z');
    });
    expect(screen.getByTestId('equity-curve')).toBeTruthy();
    expect(screen.getByTestId('tile-equity').textContent).toBe('$9,983.07');
    expect(screen.getByTestId('tile-cash').textContent).toBe('$9,460.66');
    act(() => applyOrder({ id: 1, symbol_id: 2, symbol: 'AAPL', decision_id: 7, side: 'BUY', status: 'filled', quantity: 7, price: 77.048505, fee: 0, realised_pnl: null, reason: null, quote_price: 77.01, quote_ts: null, created_at: new Date().toISOString(), mode: 'paper' }));
    expect(screen.getAllByTestId('order-row')).toHaveLength(1);
  });

  it('asks for confirmation before a reset', async () => {
    portfolio.set((s) => ({ ...s, loaded: true, portfolio: book }));
    const { calls } = mockFetch({
      'POST /api/trading/agents/execution/': { body: { ...book, agent: 'execution', state: 'stopped', starting_cash: 5000, cash: 5000, equity: 5000 } },
      'GET /api/trading/portfolio/': { body: { ...book, starting_cash: 5000, cash: 5000, equity: 5000 } },
      'GET /api/trading/orders/': { body: [] },
    });
    render(<PortfolioScreen />);
    await userEvent.click(screen.getByRole('button', { name: 'Reset…' }));
    const dialog = screen.getByRole('dialog', { name: 'Reset the paper portfolio?' });
    expect(document.activeElement?.textContent).toBe('Cancel');
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(calls).toHaveLength(0);
    await userEvent.click(screen.getByRole('button', { name: 'Reset…' }));
    const cash = screen.getByLabelText('Starting cash (USD)');
    await userEvent.clear(cash);
    await userEvent.type(cash, '5000');
    await userEvent.click(screen.getByRole('button', { name: 'Reset' }));
    await screen.findByText('$5,000.00', { selector: '[data-testid="tile-equity"]' });
    expect(calls.find((c) => c.method === 'POST')).toMatchObject({ body: { action: 'reset', starting_cash: 5000 } });
    expect(dialog.isConnected).toBe(false);
  });

  it('sends only changed settings with configure, and shows field errors', async () => {
    portfolio.set((s) => ({ ...s, loaded: true, portfolio: book }));
    const { calls } = mockFetch({
      'POST /api/trading/agents/execution/': { status: 422, body: { code: 422, message: 'Invalid input: settings', errors: { json: { settings: { fee_crypto: ['Must be greater than or equal to 0 and less than or equal to 0.1.'] } } } } },
    });
    render(<PortfolioScreen />);
    await userEvent.click(screen.getByRole('button', { name: 'Configure…' }));
    const fee = screen.getByLabelText('Crypto fee per side (fraction)');
    await userEvent.clear(fee);
    await userEvent.type(fee, '0.5');
    await userEvent.click(screen.getByRole('button', { name: 'Save 1 change' }));
    expect(await screen.findByText('Must be greater than or equal to 0 and less than or equal to 0.1.')).toBeTruthy();
    // The screen also loads its equity curve on mount: find the POST, whatever arrived first.
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.body).toEqual({ action: 'configure', settings: { fee_crypto: 0.5 } });
  });
});
