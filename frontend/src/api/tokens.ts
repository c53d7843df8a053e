// The ONE place that holds the tokens: storage, expiry, scheduled refresh, rotation.
import type { Tokens } from './types';

export interface JwtClaims {
  exp?: number;
  iat?: number;
  sub?: string;
  type?: string;
  [key: string]: unknown;
}

export function decodeJwt(token: string): JwtClaims | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = decodeURIComponent(
      Array.from(atob(base64), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''),
    );
    return JSON.parse(json) as JwtClaims;
  } catch {
    return null;
  }
}

/**
 * When to refresh an access token, in ms from `nowMs`: a minute before it expires, or at 80 % of
 * its life when it lives less than five minutes; never negative. Null without an `exp`.
 */
export function refreshDelay(token: string, nowMs: number): number | null {
  const claims = decodeJwt(token);
  if (!claims?.exp) return null;
  const expMs = claims.exp * 1000;
  const lifeMs = claims.iat ? (claims.exp - claims.iat) * 1000 : expMs - nowMs;
  const margin = lifeMs < 5 * 60_000 ? lifeMs * 0.2 : 60_000;
  return Math.max(0, expMs - margin - nowMs);
}

export function isExpired(token: string, nowMs: number, skewMs = 5_000): boolean {
  const exp = decodeJwt(token)?.exp;
  return exp == null ? false : exp * 1000 - skewMs <= nowMs;
}

/** What `POST /api/auth/refresh/` answers: a new access token, and with rotation a new refresh. */
export type RefreshCall = (refresh: string) => Promise<{ access: string; refresh?: string }>;

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export type SessionEnd = 'logout' | 'expired';

interface Deps {
  storage: KeyValueStorage;
  now: () => number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (id: unknown) => void;
}

const ACCESS = 'photon.access';
const REFRESH = 'photon.refresh';
// setTimeout fires at once beyond 2^31-1 ms (~24.8 days).
const MAX_TIMER = 2 ** 31 - 1;

export class TokenStore {
  private access: string | null;
  private refreshToken: string | null;
  private timer: unknown = null;
  private inflight: Promise<string | null> | null = null;
  private refreshCall: RefreshCall | null = null;
  private listeners = new Set<(access: string | null, ended?: SessionEnd) => void>();
  private readonly deps: Deps;

  constructor(deps: Partial<Deps> = {}) {
    this.deps = {
      storage: deps.storage ?? safeLocalStorage(),
      now: deps.now ?? (() => Date.now()),
      setTimer: deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimer: deps.clearTimer ?? ((id) => clearTimeout(id as ReturnType<typeof setTimeout>)),
    };
    this.access = this.deps.storage.getItem(ACCESS);
    this.refreshToken = this.deps.storage.getItem(REFRESH);
  }

  /** Follow logins, logouts and refreshes made in other tabs of the same origin. */
  followOtherTabs(target: Pick<Window, 'addEventListener'> = window): void {
    target.addEventListener('storage', (e: StorageEvent) => {
      if (e.key !== ACCESS && e.key !== REFRESH && e.key !== null) return;
      const access = this.deps.storage.getItem(ACCESS);
      const refresh = this.deps.storage.getItem(REFRESH);
      if (access === this.access && refresh === this.refreshToken) return;
      const had = this.loggedIn;
      this.access = access;
      this.refreshToken = refresh;
      this.schedule();
      this.notify(had && !this.loggedIn ? 'logout' : undefined);
    });
  }

  /** The client gives the store its refresh call once (it cannot import the client: a cycle). */
  useRefreshCall(call: RefreshCall): void {
    this.refreshCall = call;
    this.schedule();
  }

  get accessToken(): string | null {
    return this.access;
  }

  get refresh(): string | null {
    return this.refreshToken;
  }

  get loggedIn(): boolean {
    return Boolean(this.refreshToken || this.access);
  }

  set(tokens: Tokens): void {
    this.write(tokens.access, tokens.refresh);
    this.schedule();
    this.notify();
  }

  /** Forget the tokens; `reason` tells listeners why (an expiry brings back the login screen). */
  clear(reason: SessionEnd = 'logout'): void {
    const had = this.loggedIn;
    this.write(null, null);
    this.cancel();
    if (had) this.notify(reason);
  }

  subscribe(fn: (access: string | null, ended?: SessionEnd) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A valid access token, refreshing first when it expired. Null when the session is over. */
  async validAccess(): Promise<string | null> {
    if (this.access && !isExpired(this.access, this.deps.now())) return this.access;
    if (!this.refreshToken) return this.access;
    return this.refreshNow();
  }

  /**
   * Exchange the refresh token for a new access token. Concurrent callers share one request.
   * A refused refresh ends the session; a network failure keeps it (the server may be down).
   */
  refreshNow(): Promise<string | null> {
    if (this.inflight) return this.inflight;
    const refresh = this.refreshToken;
    const call = this.refreshCall;
    if (!refresh || !call) return Promise.resolve(this.access);
    this.inflight = call(refresh)
      .then((answer) => {
        if (this.refreshToken !== refresh) return this.access; // logged out or in meanwhile
        this.write(answer.access, answer.refresh ?? refresh);
        this.schedule();
        this.notify();
        return answer.access;
      })
      .catch((err: unknown) => {
        const status = (err as { status?: number })?.status;
        // Another tab may have rotated the refresh token first: take what it stored.
        const stored = this.deps.storage.getItem(REFRESH);
        if ((status === 401 || status === 422) && stored && stored !== refresh) {
          this.access = this.deps.storage.getItem(ACCESS);
          this.refreshToken = stored;
          this.schedule();
          this.notify();
          return this.access;
        }
        if (status === 401 || status === 422) {
          this.clear('expired');
          return null;
        }
        // Unreachable server: try again soon; the access token may still be good.
        this.retryLater();
        throw err;
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }

  private write(access: string | null, refresh: string | null): void {
    this.access = access;
    this.refreshToken = refresh;
    const { storage } = this.deps;
    if (access) storage.setItem(ACCESS, access);
    else storage.removeItem(ACCESS);
    if (refresh) storage.setItem(REFRESH, refresh);
    else storage.removeItem(REFRESH);
  }

  private schedule(): void {
    this.cancel();
    if (!this.access || !this.refreshToken || !this.refreshCall) return;
    const delay = refreshDelay(this.access, this.deps.now());
    if (delay == null) return;
    this.timer = this.deps.setTimer(() => {
      this.timer = null;
      this.refreshNow().catch(() => undefined);
    }, Math.min(delay, MAX_TIMER));
  }

  private retryLater(): void {
    this.cancel();
    this.timer = this.deps.setTimer(() => {
      this.timer = null;
      this.refreshNow().catch(() => undefined);
    }, 15_000);
  }

  private cancel(): void {
    if (this.timer != null) this.deps.clearTimer(this.timer);
    this.timer = null;
  }

  private notify(ended?: SessionEnd): void {
    for (const fn of [...this.listeners]) fn(this.access, ended);
  }
}

function safeLocalStorage(): KeyValueStorage {
  try {
    const probe = '__photon_probe__';
    window.localStorage.setItem(probe, '1');
    window.localStorage.removeItem(probe);
    return window.localStorage;
  } catch {
    const mem = new Map<string, string>();
    return {
      getItem: (k) => mem.get(k) ?? null,
      setItem: (k, v) => void mem.set(k, v),
      removeItem: (k) => void mem.delete(k),
    };
  }
}

export const tokens = new TokenStore();
if (typeof window !== 'undefined') tokens.followOtherTabs();
