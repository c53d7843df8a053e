// The shapes Photon's REST API and Socket.IO events carry (see /api/openapi.json).

export type AssetClass = 'stock' | 'crypto' | 'index' | string;
export type Interval = '1m' | '5m' | '1h' | '1d';
export const INTERVALS: Interval[] = ['1m', '5m', '1h', '1d'];
export const INTERVAL_SECONDS: Record<Interval, number> = { '1m': 60, '5m': 300, '1h': 3600, '1d': 86400 };

export interface Tokens {
  access: string;
  refresh: string;
}

export interface User {
  id: number;
  username: string;
  email: string;
  created_at: string;
}

export interface WatchedSymbol {
  id: number;
  symbol: string;
  asset_class: AssetClass;
  source: string;
  name: string | null;
  currency: string | null;
  exchange: string | null;
  added_at: string;
  /** Not sent yet; used when a provider tells it. */
  tick_size?: number | null;
}

export interface Quote {
  symbol_id?: number;
  symbol: string;
  price: number;
  change: number | null;
  change_pct: number | null;
  volume: number | null;
  bid?: number | null;
  ask?: number | null;
  currency?: string | null;
  ts: string;
  source: string;
  /** Replay only: the historical market time being replayed. */
  source_time?: string | null;
}

export interface Bar {
  open_time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface BarEvent extends Bar {
  symbol: string;
  interval: Interval;
  closed: boolean;
}

export type Action = 'BUY' | 'SELL' | 'HOLD';

export interface Signal {
  value: number | null;
  contribution: number;
  label?: string;
}

export interface Decision {
  id: number;
  symbol_id: number;
  symbol: string;
  action: Action;
  confidence: number;
  reasoning: string;
  signals: Record<string, Signal>;
  model: string;
  model_version: string | null;
  price: number;
  bar_time: string | null;
  interval: Interval | null;
  horizon_bars: number | null;
  cost: number | null;
  created_at: string;
  outcome_return: number | null;
  outcome_correct: boolean | null;
  scored_at: string | null;
  probabilities?: { up: number; down: number; flat: number } | null;
}

export interface Bucket {
  count: number;
  mean_confidence: number | null;
  scored: number;
  hit_rate: number | null;
}

export interface ReliabilityBin {
  bin_lo: number;
  bin_hi: number;
  n: number;
  mean_confidence: number | null;
  hit_rate: number | null;
}

export interface Statistics {
  total: number;
  mean_confidence: number | null;
  scored: number;
  hit_rate: number | null;
  by_action: Record<string, Bucket>;
  by_symbol: Record<string, Bucket>;
  by_model: Record<string, number>;
  /** Coming: pooled bins, maybe with per-group entries. */
  reliability?: ReliabilityBin[] | { pooled?: ReliabilityBin[]; [group: string]: unknown } | null;
}

export type AgentName = 'market-monitor' | 'decision-maker' | 'execution';
export const AGENTS: AgentName[] = ['market-monitor', 'decision-maker', 'execution'];
export type AgentState = 'running' | 'stopped' | 'degraded' | 'error' | string;

export interface AgentStatus {
  agent: AgentName;
  state: AgentState;
  last_run_at: string | null;
  last_success_at: string | null;
  last_error: string | null;
  cycles: number;
  symbols_watched?: number;
  job_id?: string | null;
  // Execution only:
  mode?: string;
  equity?: number;
  cash?: number;
  realised_pnl?: number;
  unrealised_pnl?: number;
  halted_until?: string | null;
  counters?: Record<string, unknown>;
}

export interface Position {
  symbol_id: number;
  symbol: string;
  asset_class: AssetClass;
  quantity: number;
  avg_price: number;
  cost: number;
  price: number;
  quote_ts: string | null;
  market_value: number;
  unrealised_pnl: number;
  opened_at: string;
}

export interface Order {
  id: number;
  symbol_id: number;
  symbol: string;
  decision_id: number | null;
  side: 'BUY' | 'SELL';
  status: 'filled' | 'rejected' | string;
  quantity: number;
  price: number | null;
  fee: number;
  realised_pnl: number | null;
  reason: string | null;
  quote_price: number | null;
  quote_ts: string | null;
  created_at: string;
  mode: string;
  /** Coming: the bar time of the order's decision. */
  bar_time?: string | null;
}

export interface PaperSettings {
  fee_crypto: number;
  fee_stock: number;
  slippage: number;
  max_quote_age: number;
  position_fraction: number;
  max_position_pct: number;
  max_positions: number;
  daily_loss_pct: number;
  cooldown: number;
}

export interface Portfolio {
  mode: string;
  currency: string;
  starting_cash: number;
  cash: number;
  equity: number;
  positions_value: number;
  realised_pnl: number;
  unrealised_pnl: number;
  fees_paid: number;
  net_pnl: number;
  return_pct: number;
  halted_until: string | null;
  day_start_equity: number | null;
  settings: PaperSettings;
  positions: Position[];
  last_orders: Order[];
}

export type ExecutionStatus = AgentStatus & Portfolio;

export interface EquityPoint {
  ts: string;
  equity: number;
  cash: number;
}

export interface Health {
  status: string;
  database: string;
  redis: string;
  data_source: 'live' | 'replay' | string;
}

export interface Pagination {
  total: number;
  total_pages: number;
  first_page?: number;
  last_page?: number;
  page: number;
  next_page?: number;
  previous_page?: number;
}

export interface Page<T> {
  items: T[];
  pagination: Pagination | null;
}
