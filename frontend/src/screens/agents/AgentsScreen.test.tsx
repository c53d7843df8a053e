import { render, screen, within } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AgentStatus } from '../../api/types';
import { agents } from '../../state/agents';
import { AgentsScreen } from './AgentsScreen';

const base = { last_run_at: '2026-12-01T19:13:54Z', last_success_at: '2026-12-01T19:13:50Z', last_error: null, cycles: 3 };

describe('AgentsScreen', () => {
  beforeEach(() => agents.reset());

  it('shows each agent with its state, and says why a degraded one is degraded', () => {
    agents.set((s) => ({
      ...s,
      'market-monitor': { agent: 'market-monitor', state: 'degraded', ...base, last_error: 'bybit: ProviderUnavailable: timed out' } as AgentStatus,
      'decision-maker': { agent: 'decision-maker', state: 'stopped', ...base } as AgentStatus,
      execution: { agent: 'execution', state: 'running', ...base, equity: 9980.2, cash: 9460.66, realised_pnl: 0, unrealised_pnl: -19.8, halted_until: null, counters: { orders_filled: 1, orders_rejected: 2 } } as AgentStatus,
    }));
    render(<AgentsScreen />);
    const monitor = screen.getByTestId('agent-market-monitor');
    expect(within(monitor).getByTestId('state-pill').textContent).toBe('degraded');
    expect(within(monitor).getAllByText(/timed out/).length).toBeGreaterThan(0);
    expect(within(monitor).getByRole('button', { name: 'Stop market monitor' })).toBeTruthy();
    const maker = screen.getByTestId('agent-decision-maker');
    expect(within(maker).getByRole('button', { name: 'Start decision maker' })).toBeTruthy();
    const exec = screen.getByTestId('agent-execution');
    expect(within(exec).getByText('$9,980.20')).toBeTruthy();
    expect(within(exec).getByText('1 filled, 2 rejected')).toBeTruthy();
  });

  it('shows a halt and until when', () => {
    const until = new Date(Date.now() + 3600_000).toISOString();
    agents.set((s) => ({ ...s, execution: { agent: 'execution', state: 'running', ...base, last_error: 'halted for the day: daily loss 5.2% >= 5.0%', halted_until: until } as AgentStatus }));
    render(<AgentsScreen />);
    const exec = screen.getByTestId('agent-execution');
    expect(within(exec).getByTestId('state-pill').textContent).toBe('halted');
    expect(within(exec).getByTestId('halted').textContent).toContain('daily loss 5.2%');
  });
});
