import { act, render, screen } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyQuote, market, noteMarketTime } from '../state/market';
import { mockFetch } from '../test/helpers';
import { ReplayBadge } from './ReplayBadge';

const btc = { id: 1, symbol: 'BTCUSDT', asset_class: 'crypto', source: 'bybit', name: null, currency: 'USD', exchange: 'replay', added_at: '' };
const aapl = { ...btc, id: 2, symbol: 'AAPL', asset_class: 'stock' };

describe('ReplayBadge', () => {
  beforeEach(() => {
    market.reset();
    mockFetch({ 'GET /api/trading/market-data/bars/': { body: [] } });
  });

  it('stays hidden for live data', () => {
    market.set((s) => ({ ...s, health: { status: 'ok', database: 'ok', redis: 'ok', data_source: 'live' } }));
    render(<ReplayBadge />);
    expect(screen.queryByTestId('replay-badge')).toBeNull();
  });

  it('says REPLAY DATA with the replayed market time of each series', () => {
    market.set((s) => ({ ...s, symbols: [btc, aapl], health: { status: 'ok', database: 'ok', redis: 'ok', data_source: 'replay' } }));
    render(<ReplayBadge />);
    expect(screen.getByTestId('replay-badge').textContent).toBe('REPLAY DATA');
    // Until quotes carry source_time, the newest bar or decision time stands in...
    act(() => noteMarketTime('AAPL', '2006-08-16T00:00:00+00:00'));
    expect(screen.getByTestId('replay-badge').textContent).toContain('AAPL 2006-08-16');
    // ...and source_time wins once it arrives, even when it is older.
    act(() => applyQuote({ symbol: 'BTCUSDT', price: 9134.01, change: null, change_pct: null, volume: 1, ts: '2026-12-01T19:13:18Z', source: 'replay', source_time: '2020-06-30T22:00:00Z' }));
    act(() => noteMarketTime('BTCUSDT', '2020-07-30T22:00:00Z'));
    expect(screen.getByTestId('replay-badge').textContent).toContain('BTCUSDT 2020-06-30 22:00 UTC');
  });
});
