import { render, screen } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { market } from '../../state/market';
import { mockFetch } from '../../test/helpers';
import { ChartScreen } from './ChartScreen';

// The canvas itself is exercised in the real browser (e2e); here only what surrounds it.
vi.mock('./CandleChart', () => ({ default: ({ bars, markers }: { bars: unknown[]; markers: unknown[] }) => <div data-testid="candles-stub">{`${bars.length} bars ${markers.length} markers`}</div> }));

const aapl = { id: 2, symbol: 'AAPL', asset_class: 'stock', source: 'yahoo', name: 'Apple Inc.', currency: 'USD', exchange: 'NMS', added_at: '2026-01-01T00:00:00Z' };

describe('ChartScreen', () => {
  beforeEach(() => market.reset());

  it('says to add a symbol first', () => {
    market.set((s) => ({ ...s, loaded: true }));
    render(<ChartScreen />);
    expect(screen.getByText('Add a symbol to start')).toBeTruthy();
  });

  it('loads bars with markers for the decisions on them', async () => {
    market.set((s) => ({ ...s, loaded: true, symbols: [aapl] }));
    const { calls } = mockFetch({
      'GET /api/trading/market-data/bars/': {
        body: [
          { open_time: '2006-08-15T00:00:00+00:00', open: 65.34, high: 66.5, low: 64.8, close: 66.45, volume: 30762600 },
          { open_time: '2006-08-16T00:00:00+00:00', open: 67.1, high: 68.07, low: 66.33, close: 67.98, volume: 27903000 },
        ],
      },
      'GET /api/trading/decisions/': { body: [{ id: 1, symbol_id: 2, symbol: 'AAPL', action: 'BUY', confidence: 0.6, bar_time: '2006-08-16T00:00:00+00:00', signals: {} }] },
      'GET /api/trading/orders/': { body: [] },
    });
    render(<ChartScreen ticker="AAPL" />);
    expect((await screen.findByTestId('candles-stub')).textContent).toBe('2 bars 1 markers');
    expect(calls.find((c) => c.path.startsWith('/api/trading/market-data/bars/'))?.path).toContain('interval=1d');
  });

  it('says which intervals replay serves when there are no bars', async () => {
    market.set((s) => ({ ...s, loaded: true, symbols: [{ ...aapl, exchange: 'replay' }] }));
    window.history.replaceState(null, '', '/chart/AAPL?interval=1m');
    mockFetch({ 'GET /api/trading/market-data/bars/': { body: [] }, 'GET /api/trading/decisions/': { body: [] }, 'GET /api/trading/orders/': { body: [] } });
    render(<ChartScreen ticker="AAPL" />);
    expect(await screen.findByText('No 1m bars for AAPL yet')).toBeTruthy();
    expect(screen.getByText(/Replay serves daily history/)).toBeTruthy();
    window.history.replaceState(null, '', '/');
  });
});
