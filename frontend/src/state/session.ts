// Starting and ending a logged-in session: one socket, the stores loaded, events wired once.
import { api } from '../api/client';
import { tokens } from '../api/tokens';
import type { AgentStatus, Decision, Order, Quote } from '../api/types';
import { connection, subscriptions } from '../realtime';
import { agents, applyAgentStatus, loadAgents } from './agents';
import { decisions, loadDecisions, loadStatistics, upsertDecisions } from './decisions';
import { applyQuote, loadHealth, loadLatest, loadSymbols, market } from './market';
import { applyExecutionStatus, applyOrder, loadPortfolio, portfolio } from './portfolio';

let wired = false;
let running = false;

function wireEvents() {
  if (wired) return;
  wired = true;
  connection.on<Quote>('quote', (q) => applyQuote(q));
  connection.on<Decision>('decision', (d) => upsertDecisions([d]));
  connection.on<AgentStatus>('agent_status', (s) => {
    applyAgentStatus(s);
    applyExecutionStatus(s);
  });
  connection.on<Order>('order', (o) => applyOrder(o));
  // After an outage, catch up on what was missed from REST.
  let first = true;
  connection.onConnect(() => {
    if (first) {
      first = false;
      return;
    }
    loadLatest().catch(() => undefined);
    loadAgents();
    loadHealth();
  });
}

export function startSession(): void {
  if (running) return;
  running = true;
  wireEvents();
  connection.start();
  loadHealth();
  loadSymbols();
  loadAgents();
  loadDecisions();
  loadStatistics();
  loadPortfolio();
}

/** Stop the socket and forget everything the last user saw. */
export function endSession(): void {
  running = false;
  connection.stop();
  subscriptions.set([]);
  market.reset();
  agents.reset();
  decisions.reset();
  portfolio.reset();
}

export async function logout(): Promise<void> {
  const refresh = tokens.refresh;
  try {
    if (tokens.accessToken) await api.logout(refresh);
  } catch {
    /* revoked or unreachable: forget the tokens anyway */
  } finally {
    tokens.clear('logout');
  }
}
