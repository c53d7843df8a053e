import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { tokens } from '../../api/tokens';
import type { WatchedSymbol } from '../../api/types';
import { agents } from '../../state/agents';
import { applyQuote, market } from '../../state/market';
import { jwt, mockFetch } from '../../test/helpers';
import { WatchlistScreen } from './WatchlistScreen';

const btc: WatchedSymbol = { id: 1, symbol: 'BTCUSDT', asset_class: 'crypto', source: 'bybit', name: 'Bitcoin / Tether', currency: 'USDT', exchange: 'bybit', added_at: '2026-01-01T00:00:00Z' };

describe('WatchlistScreen', () => {
  beforeEach(() => {
    market.reset();
    agents.reset();
    tokens.set({ access: jwt({ exp: Math.floor(Date.now() / 1000) + 900 }), refresh: 'r' });
  });

  it('says what to do when the list is empty', () => {
    market.set((s) => ({ ...s, loaded: true }));
    render(<WatchlistScreen />);
    expect(screen.getByText('Add a symbol to start')).toBeTruthy();
  });

  it('asks to start the monitor when symbols have no prices yet', () => {
    market.set((s) => ({ ...s, loaded: true, symbols: [btc] }));
    render(<WatchlistScreen />);
    expect(screen.getByText('Start the monitor to see live prices')).toBeTruthy();
  });

  it('updates price, change and sparkline from quote events without reloading', () => {
    market.set((s) => ({ ...s, loaded: true, symbols: [btc] }));
    agents.set((s) => ({ ...s, 'market-monitor': { agent: 'market-monitor', state: 'running', last_run_at: null, last_success_at: null, last_error: null, cycles: 1 } }));
    render(<WatchlistScreen />);
    expect(screen.getByTestId('price-BTCUSDT').textContent).toContain('waiting');
    act(() => applyQuote({ symbol: 'BTCUSDT', price: 9134.01, change: -26.18, change_pct: -0.285802, volume: 827, ts: '2026-12-01T19:13:18Z', source: 'bybit' }));
    expect(screen.getByTestId('price-BTCUSDT').textContent).toContain('9,134.01');
    expect(screen.getByTestId('change-BTCUSDT').textContent).toBe('-0.29 %');
    act(() => applyQuote({ symbol: 'BTCUSDT', price: 9206.45, change: 72.44, change_pct: 0.79, volume: 900, ts: '2026-12-01T19:13:19Z', source: 'bybit' }));
    expect(screen.getByTestId('price-BTCUSDT').textContent).toContain('9,206.45');
    expect(screen.getByTestId('change-BTCUSDT').textContent).toBe('+0.79 %');
    expect(screen.getByRole('img', { name: /BTCUSDT trend: 2 recent prices, up/ })).toBeTruthy();
  });

  it("shows the server's message for an unknown symbol", async () => {
    market.set((s) => ({ ...s, loaded: true }));
    mockFetch({
      'POST /api/trading/symbols/': { status: 422, body: { code: 422, status: 'Unprocessable Entity', message: "'ZZZZZZ' is not in the bundled replay history; replay mode knows: AAPL, MSFT, IBM, GOOG, BTCUSDT, ETHUSDT", errors: { symbol: ['ZZZZZZ'] } } },
    });
    render(<WatchlistScreen />);
    await userEvent.type(screen.getByLabelText('Add a symbol'), 'ZZZZZZ');
    await userEvent.click(screen.getByRole('button', { name: 'Add' }));
    const err = await screen.findByTestId('add-symbol-error');
    expect(err.textContent).toBe("'ZZZZZZ' is not in the bundled replay history; replay mode knows: AAPL, MSFT, IBM, GOOG, BTCUSDT, ETHUSDT");
    expect(screen.getByLabelText('Add a symbol').getAttribute('aria-describedby')).toBe('add-symbol-error');
  });

  it("shows a provider outage's 503 message with when to retry", async () => {
    market.set((s) => ({ ...s, loaded: true }));
    mockFetch({ 'POST /api/trading/symbols/': { status: 503, body: { code: 503, status: 'Service Unavailable', message: 'Bybit is unreachable: timed out', errors: {} }, headers: { 'Retry-After': '30' } } });
    render(<WatchlistScreen />);
    await userEvent.type(screen.getByLabelText('Add a symbol'), 'BTC');
    await userEvent.click(screen.getByRole('button', { name: 'Add' }));
    expect((await screen.findByTestId('add-symbol-error')).textContent).toBe('Bybit is unreachable: timed out Try again in 30 s.');
  });

  it('adds and removes a symbol', async () => {
    market.set((s) => ({ ...s, loaded: true }));
    mockFetch({
      'POST /api/trading/symbols/': { status: 201, body: btc },
      'GET /api/trading/market-data/latest/': { body: [] },
      'DELETE /api/trading/symbols/1/': { status: 204 },
    });
    render(<WatchlistScreen />);
    await userEvent.type(screen.getByLabelText('Add a symbol'), 'BTC');
    await userEvent.click(screen.getByRole('button', { name: 'Add' }));
    expect(await screen.findByTestId('row-BTCUSDT')).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Remove BTCUSDT' }));
    expect(await screen.findByText('Add a symbol to start')).toBeTruthy();
  });
});
