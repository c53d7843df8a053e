// The paper portfolio, its orders, and the equity curve.
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import type { AgentStatus, EquityPoint, ExecutionStatus, Order, PaperSettings, Portfolio } from '../api/types';
import { createStore } from './store';

const KEEP_ORDERS = 200;
const KEEP_POINTS = 5_000;

export interface PortfolioState {
  portfolio: Portfolio | null;
  loaded: boolean;
  loadError: string | null;
  orders: Order[];
  ordersTotal: number | null;
  equity: EquityPoint[];
  /** `server`: GET /portfolio/equity/ exists; `session`: built from agent_status events. */
  equityFrom: 'server' | 'session' | null;
}

export const portfolio = createStore<PortfolioState>(() => ({
  portfolio: null,
  loaded: false,
  loadError: null,
  orders: [],
  ordersTotal: null,
  equity: [],
  equityFrom: null,
}));

export async function loadPortfolio(): Promise<void> {
  try {
    const [p, orders] = await Promise.all([api.portfolio(), api.orders({ page_size: 100 })]);
    portfolio.set((s) => ({
      ...s,
      portfolio: p,
      loaded: true,
      loadError: null,
      orders: mergeOrders(s.orders, orders.items),
      ordersTotal: orders.pagination?.total ?? orders.items.length,
    }));
    if (!portfolio.get().equity.length) addEquityPoint(new Date().toISOString(), p.equity, p.cash);
  } catch (err) {
    portfolio.set((s) => ({ ...s, loaded: true, loadError: (err as Error).message }));
  }
  await loadEquity();
}

export async function loadEquity(): Promise<void> {
  try {
    const points = await api.equity();
    portfolio.set((s) => {
      // Keep session points newer than the server's last one.
      const last = points.length ? Date.parse(points[points.length - 1].ts) : -Infinity;
      const newer = s.equity.filter((p) => Date.parse(p.ts) > last);
      return { ...s, equity: [...points, ...newer].slice(-KEEP_POINTS), equityFrom: 'server' };
    });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
      portfolio.set((s) => ({ ...s, equityFrom: 'session' }));
    }
  }
}

function mergeOrders(have: Order[], incoming: Order[]): Order[] {
  const byId = new Map(have.map((o) => [o.id, o]));
  for (const o of incoming) byId.set(o.id, o);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, KEEP_ORDERS);
}

export function addEquityPoint(ts: string, equity: number, cash: number): void {
  portfolio.set((s) => {
    const last = s.equity[s.equity.length - 1];
    if (last && Date.parse(last.ts) >= Date.parse(ts)) {
      if (last.equity === equity && last.cash === cash) return s;
      return { ...s, equity: [...s.equity.slice(0, -1), { ts: last.ts, equity, cash }] };
    }
    return { ...s, equity: [...s.equity, { ts, equity, cash }].slice(-KEEP_POINTS) };
  });
}

let refetch: ReturnType<typeof setTimeout> | null = null;
function refetchSoon() {
  if (refetch) return;
  refetch = setTimeout(() => {
    refetch = null;
    api.portfolio().then((p) => portfolio.set((s) => ({ ...s, portfolio: p }))).catch(() => undefined);
  }, 400);
}

/** An `order` event: a new paper fill or rejection; positions change, so refetch them. */
export function applyOrder(order: Order): void {
  portfolio.set((s) => {
    const isNew = !s.orders.some((o) => o.id === order.id);
    return { ...s, orders: mergeOrders(s.orders, [order]), ordersTotal: s.ordersTotal == null ? null : s.ordersTotal + (isNew ? 1 : 0) };
  });
  refetchSoon();
}

/** The execution agent's status carries equity, cash and PnL on every market update. */
export function applyExecutionStatus(status: AgentStatus, nowIso = new Date().toISOString()): void {
  if (status.agent !== 'execution' || status.equity == null) return;
  portfolio.set((s) => {
    if (!s.portfolio) return s;
    const p: Portfolio = {
      ...s.portfolio,
      equity: status.equity ?? s.portfolio.equity,
      cash: status.cash ?? s.portfolio.cash,
      realised_pnl: status.realised_pnl ?? s.portfolio.realised_pnl,
      unrealised_pnl: status.unrealised_pnl ?? s.portfolio.unrealised_pnl,
      halted_until: status.halted_until === undefined ? s.portfolio.halted_until : status.halted_until,
    };
    p.net_pnl = p.equity - p.starting_cash;
    p.return_pct = p.starting_cash ? (p.net_pnl / p.starting_cash) * 100 : 0;
    return { ...s, portfolio: p };
  });
  addEquityPoint(nowIso, status.equity, status.cash ?? portfolio.get().portfolio?.cash ?? 0);
}

function fromExecution(body: ExecutionStatus) {
  const { agent: _a, state: _s, last_run_at: _r, last_success_at: _ok, last_error: _e, cycles: _c, symbols_watched: _w, job_id: _j, counters: _k, ...rest } = body;
  return rest as Portfolio;
}

export async function resetPortfolio(startingCash?: number): Promise<ExecutionStatus> {
  const body = await api.resetPortfolio(startingCash);
  portfolio.set((s) => ({ ...s, portfolio: fromExecution(body), equity: [], orders: [], ordersTotal: 0 }));
  addEquityPoint(new Date().toISOString(), body.equity, body.cash);
  await loadPortfolio();
  return body;
}

export async function configurePortfolio(settings: Partial<PaperSettings>): Promise<ExecutionStatus> {
  const body = await api.configurePortfolio(settings);
  portfolio.set((s) => ({ ...s, portfolio: fromExecution(body) }));
  return body;
}
