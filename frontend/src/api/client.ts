// The one typed REST client. Every call goes through `request`, which adds the bearer token,
// refreshes once on a 401, and turns every failure into an ApiError.
import { ApiError } from './errors';
import { tokens, type TokenStore } from './tokens';
import type {
  AgentName,
  AgentStatus,
  Bar,
  Decision,
  EquityPoint,
  ExecutionStatus,
  Health,
  Interval,
  Order,
  Page,
  Pagination,
  PaperSettings,
  Portfolio,
  Quote,
  Statistics,
  Tokens,
  User,
  WatchedSymbol,
} from './types';

type Query = Record<string, string | number | boolean | null | undefined>;

interface Options {
  body?: unknown;
  query?: Query;
  auth?: boolean;
  signal?: AbortSignal;
}

interface Raw<T> {
  data: T;
  headers: Headers;
  status: number;
}

export class ApiClient {
  constructor(
    private readonly store: TokenStore,
    private readonly base = '',
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {
    store.useRefreshCall((refresh) => this.raw<{ access: string; refresh?: string }>('POST', '/api/auth/refresh/', { body: { refresh }, auth: false }).then((r) => r.data));
  }

  async raw<T>(method: string, path: string, opts: Options = {}): Promise<Raw<T>> {
    const auth = opts.auth ?? true;
    let token = auth ? await this.store.validAccess().catch(() => this.store.accessToken) : null;
    let response = await this.send(method, path, opts, token);
    if (response.status === 401 && auth && this.store.refresh) {
      // The token was revoked or expired early: one refresh, one retry.
      token = await this.store.refreshNow().catch(() => null);
      if (token) response = await this.send(method, path, opts, token);
    }
    if (response.status === 401 && auth) {
      const err = await toError(response);
      this.store.clear('expired');
      throw err;
    }
    if (!response.ok) throw await toError(response);
    const data = response.status === 204 ? (undefined as T) : ((await response.json().catch(() => undefined)) as T);
    return { data, headers: response.headers, status: response.status };
  }

  async request<T>(method: string, path: string, opts: Options = {}): Promise<T> {
    return (await this.raw<T>(method, path, opts)).data;
  }

  private async send(method: string, path: string, opts: Options, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await this.fetcher(this.base + path + queryString(opts.query), {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw new ApiError(0, 'Photon is unreachable; check the connection and try again.', {}, 'Offline');
    }
  }

  private async page<T>(path: string, query: Query = {}): Promise<Page<T>> {
    const { data, headers } = await this.raw<T[]>('GET', path, { query });
    return { items: data ?? [], pagination: parsePagination(headers.get('X-Pagination')) };
  }

  // Auth
  login(username: string, password: string) {
    return this.request<Tokens>('POST', '/api/auth/login/', { body: { username, password }, auth: false });
  }
  register(username: string, email: string, password: string) {
    return this.request<User>('POST', '/api/auth/register/', { body: { username, email, password }, auth: false });
  }
  me() {
    return this.request<User>('GET', '/api/auth/me/');
  }
  logout(refresh: string | null) {
    return this.request<void>('POST', '/api/auth/logout/', { body: refresh ? { refresh } : {} });
  }

  // Watch list and market data
  symbols(page = 1, pageSize = 500) {
    return this.page<WatchedSymbol>('/api/trading/symbols/', { page, page_size: pageSize });
  }
  addSymbol(symbol: string) {
    return this.request<WatchedSymbol>('POST', '/api/trading/symbols/', { body: { symbol } });
  }
  removeSymbol(id: number) {
    return this.request<void>('DELETE', `/api/trading/symbols/${id}/`);
  }
  latestQuotes() {
    return this.request<Quote[]>('GET', '/api/trading/market-data/latest/');
  }
  quoteHistory(symbolId: number, pageSize = 60) {
    return this.page<Quote>('/api/trading/market-data/', { symbol_id: symbolId, page_size: pageSize });
  }
  bars(q: { symbol_id: number; interval: Interval; start?: string; end?: string; limit?: number }, signal?: AbortSignal) {
    return this.request<Bar[]>('GET', '/api/trading/market-data/bars/', { query: q, signal });
  }

  // Decisions
  decisions(q: { symbol_id?: number; action?: string; page?: number; page_size?: number } = {}) {
    return this.page<Decision>('/api/trading/decisions/', q);
  }
  decision(id: number) {
    return this.request<Decision>('GET', `/api/trading/decisions/${id}/`);
  }
  decideNow(symbolId: number) {
    return this.request<Decision>('POST', '/api/trading/decisions/', { body: { symbol_id: symbolId } });
  }
  statistics() {
    return this.request<Statistics>('GET', '/api/trading/decisions/statistics/');
  }

  // Agents
  agent(name: AgentName) {
    return this.request<AgentStatus>('GET', `/api/trading/agents/${name}/`);
  }
  controlAgent(name: AgentName, action: 'start' | 'stop') {
    return this.request<AgentStatus>('POST', `/api/trading/agents/${name}/`, { body: { action } });
  }
  execution() {
    return this.request<ExecutionStatus>('GET', '/api/trading/agents/execution/');
  }
  resetPortfolio(startingCash?: number) {
    const body: Record<string, unknown> = { action: 'reset' };
    if (startingCash != null) body.starting_cash = startingCash;
    return this.request<ExecutionStatus>('POST', '/api/trading/agents/execution/', { body });
  }
  configurePortfolio(settings: Partial<PaperSettings>) {
    return this.request<ExecutionStatus>('POST', '/api/trading/agents/execution/', { body: { action: 'configure', settings } });
  }

  // Paper portfolio
  portfolio() {
    return this.request<Portfolio>('GET', '/api/trading/portfolio/');
  }
  orders(q: { symbol_id?: number; page?: number; page_size?: number } = {}) {
    return this.page<Order>('/api/trading/orders/', q);
  }
  equity() {
    return this.request<EquityPoint[]>('GET', '/api/trading/portfolio/equity/');
  }

  health() {
    return this.fetcher(this.base + '/health', { headers: { Accept: 'application/json' } })
      .then(async (r) => (await r.json()) as Health)
      .catch(() => null);
  }
}

export function queryString(query?: Query): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function parsePagination(header: string | null): Pagination | null {
  if (!header) return null;
  try {
    return JSON.parse(header) as Pagination;
  } catch {
    return null;
  }
}

async function toError(response: Response): Promise<ApiError> {
  let body: { message?: string; errors?: unknown; status?: string } | undefined;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const retry = Number(response.headers.get('Retry-After'));
  return new ApiError(
    response.status,
    body?.message || `${response.status} ${response.statusText || 'error'}`,
    body?.errors ?? {},
    body?.status ?? response.statusText,
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
}

export const api = new ApiClient(tokens);
