import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Decision, Statistics } from '../../api/types';
import { decisions, topSignals } from '../../state/decisions';
import { market } from '../../state/market';
import { mockFetch } from '../../test/helpers';
import { DecisionsScreen } from './DecisionsScreen';
import { reliabilitySeries } from './reliability';

const decision: Decision = {
  id: 7, symbol_id: 2, symbol: 'AAPL', action: 'BUY', confidence: 0.571, model: 'rules', model_version: 'rules-v1', price: 77.01,
  reasoning: 'BUY: rules ensemble score +0.43. RSI(14)=27.9 (oversold) pushed toward BUY (+0.29)',
  signals: {
    rsi_14: { value: 27.9, contribution: 0.29, label: 'RSI(14)' },
    macd_hist: { value: -0.0003, contribution: -0.14, label: 'MACD hist' },
    sma_cross: { value: 0.001, contribution: 0.29, label: 'SMA(10)/SMA(50)' },
    ret_1: { value: 0.01, contribution: 0.02, label: 'Return 1 bar' },
    ret_5: { value: 0.01, contribution: 0, label: 'Return 5 bars' },
    bb: { value: 0.3, contribution: 0.05, label: 'Bollinger %b' },
    vol: { value: 1, contribution: -0.01, label: 'Volume z' },
  },
  bar_time: '2006-08-16T00:00:00+00:00', interval: '1d', horizon_bars: 5, cost: 0.004, created_at: '2026-12-01T19:13:48Z',
  outcome_return: null, outcome_correct: null, scored_at: null, probabilities: { up: 0.57, down: 0.13, flat: 0.3 },
};
const stats: Statistics = { total: 7, mean_confidence: 0.9, scored: 0, hit_rate: null, by_action: { BUY: { count: 1, mean_confidence: 0.57, scored: 0, hit_rate: null } }, by_symbol: {}, by_model: { rules: 7 } };

describe('DecisionsScreen', () => {
  beforeEach(() => {
    decisions.reset();
    market.reset();
    mockFetch({ 'GET /api/trading/decisions/statistics/': { body: stats } });
  });

  it('says what to do before any decision exists', () => {
    decisions.set((s) => ({ ...s, loaded: true }));
    render(<DecisionsScreen />);
    expect(screen.getByText('No decisions yet')).toBeTruthy();
    expect(screen.getAllByText('Add a symbol to start').length).toBeGreaterThan(0);
  });

  it('shows action, confidence, model, reasoning, probabilities and the top signals', () => {
    decisions.set((s) => ({ ...s, loaded: true, items: [decision], stats }));
    render(<DecisionsScreen />);
    const card = screen.getByTestId('decision-card');
    expect(within(card).getByText('BUY')).toBeTruthy();
    expect(within(card).getByText('57 % confidence')).toBeTruthy();
    expect(within(card).getByText(/rules rules-v1/)).toBeTruthy();
    expect(within(card).getByText(/oversold/)).toBeTruthy();
    expect(within(card).getByText(/up 57 %/)).toBeTruthy();
    const rows = within(within(card).getByRole('list', { name: 'Top signal contributions' })).getAllByRole('listitem');
    expect(rows).toHaveLength(5);
    expect(rows[0].textContent).toContain('RSI(14)');
    // Counts and hit rate, and no reliability chart without bins.
    expect(screen.getByTestId('stats-total').textContent).toBe('7');
    expect(screen.queryByTestId('reliability-chart')).toBeNull();
  });

  it('decide now: a 409 shows the server\'s message, a 201 joins the feed', async () => {
    market.set((s) => ({ ...s, loaded: true, symbols: [{ id: 2, symbol: 'AAPL', asset_class: 'stock', source: 'yahoo', name: null, currency: 'USD', exchange: null, added_at: '' }] }));
    decisions.set((s) => ({ ...s, loaded: true, stats }));
    let n = 0;
    mockFetch({
      'GET /api/trading/decisions/statistics/': { body: stats },
      'POST /api/trading/decisions/': () =>
        n++ === 0 ? { status: 409, body: { code: 409, status: 'Conflict', message: 'AAPL has 12 stored 1d bars; deciding needs at least 60', errors: {} } } : { status: 201, body: decision },
    });
    render(<DecisionsScreen />);
    await userEvent.click(screen.getByRole('button', { name: 'Decide now for AAPL' }));
    expect((await screen.findByTestId('decide-msg-AAPL')).textContent).toBe('AAPL has 12 stored 1d bars; deciding needs at least 60');
    await userEvent.click(screen.getByRole('button', { name: 'Decide now for AAPL' }));
    expect(await screen.findByTestId('decision-card')).toBeTruthy();
  });

  it('draws the reliability chart once bins have scored decisions', () => {
    const bins = Array.from({ length: 10 }, (_, i) => ({ bin_lo: i / 10, bin_hi: (i + 1) / 10, n: i > 5 ? 4 : 0, mean_confidence: i > 5 ? i / 10 + 0.05 : null, hit_rate: i > 5 ? 0.5 : null }));
    decisions.set((s) => ({ ...s, loaded: true, items: [decision], stats: { ...stats, scored: 16, hit_rate: 0.5, reliability: bins } }));
    render(<DecisionsScreen />);
    expect(screen.getByTestId('reliability-chart')).toBeTruthy();
  });
});

describe('topSignals and reliability', () => {
  it('takes the largest |contribution| first, 3 to 5 of them', () => {
    expect(topSignals(decision).map((s) => s.key)).toEqual(['rsi_14', 'sma_cross', 'macd_hist', 'bb', 'ret_1']);
    const quiet = { signals: { a: { value: 1, contribution: 0 }, b: { value: 1, contribution: 0 }, c: { value: 1, contribution: 0.2 }, d: { value: 1, contribution: 0 } } };
    expect(topSignals(quiet)).toHaveLength(3);
  });

  it('reads pooled bins and per-group entries, and nothing from empty bins', () => {
    const bin = (n: number, group?: string) => ({ bin_lo: 0.5, bin_hi: 0.6, n, mean_confidence: 0.55, hit_rate: n ? 0.5 : null, ...(group ? { group } : {}) });
    expect(reliabilitySeries({ ...stats, reliability: [bin(0)] })).toBeNull();
    expect(reliabilitySeries({ ...stats, reliability: [bin(3), bin(2, 'BUY')] })?.map((s) => s.name)).toEqual(['all decisions', 'BUY']);
    expect(reliabilitySeries({ ...stats, reliability: { pooled: [bin(3)], by_action: { SELL: [bin(1)] } } })?.map((s) => s.name)).toEqual(['all decisions', 'by_action SELL']);
    expect(reliabilitySeries(stats)).toBeNull();
  });
});
