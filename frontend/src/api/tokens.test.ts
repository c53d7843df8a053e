import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jwt } from '../test/helpers';
import { decodeJwt, refreshDelay, TokenStore } from './tokens';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const sec = (ms: number) => Math.floor(ms / 1000);

function memory() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m };
}

describe('refreshDelay', () => {
  it('refreshes a 15-minute token one minute before it expires', () => {
    const token = jwt({ iat: sec(NOW), exp: sec(NOW) + 15 * 60 });
    expect(refreshDelay(token, NOW)).toBe(14 * 60_000);
  });

  it('refreshes a short-lived token at 80 % of its life', () => {
    const token = jwt({ iat: sec(NOW), exp: sec(NOW) + 100 });
    expect(refreshDelay(token, NOW)).toBe(80_000);
  });

  it('refreshes at once when already past the margin, and not at all without exp', () => {
    expect(refreshDelay(jwt({ iat: sec(NOW) - 900, exp: sec(NOW) + 10 }), NOW)).toBe(0);
    expect(refreshDelay(jwt({ sub: '1' }), NOW)).toBeNull();
    expect(decodeJwt('not-a-jwt')).toBeNull();
  });
});

describe('TokenStore', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());

  it('schedules the refresh from exp and stores the new access token', async () => {
    const storage = memory();
    const store = new TokenStore({ storage });
    const next = jwt({ iat: sec(NOW) + 840, exp: sec(NOW) + 840 + 900 });
    const call = vi.fn().mockResolvedValue({ access: next });
    store.useRefreshCall(call);
    store.set({ access: jwt({ iat: sec(NOW), exp: sec(NOW) + 900 }), refresh: 'r1' });

    await vi.advanceTimersByTimeAsync(14 * 60_000 - 1);
    expect(call).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(call).toHaveBeenCalledWith('r1');
    expect(store.accessToken).toBe(next);
    expect(storage.m.get('photon.access')).toBe(next);
    expect(store.refresh).toBe('r1');

    // And the next one is scheduled from the new token's exp.
    await vi.advanceTimersByTimeAsync(14 * 60_000);
    expect(call).toHaveBeenCalledTimes(2);
  });

  it('replaces the refresh token when the answer rotates it', async () => {
    const store = new TokenStore({ storage: memory() });
    store.useRefreshCall(vi.fn().mockResolvedValue({ access: jwt({ exp: sec(NOW) + 900 }), refresh: 'r2' }));
    store.set({ access: jwt({ exp: sec(NOW) - 1 }), refresh: 'r1' });
    await store.refreshNow();
    expect(store.refresh).toBe('r2');
  });

  it('shares one request between concurrent callers', async () => {
    const store = new TokenStore({ storage: memory() });
    let resolve!: (v: { access: string }) => void;
    const call = vi.fn(() => new Promise<{ access: string }>((r) => (resolve = r)));
    store.useRefreshCall(call);
    store.set({ access: jwt({ exp: sec(NOW) - 1 }), refresh: 'r1' });
    const a = store.validAccess();
    const b = store.validAccess();
    resolve({ access: 'new' });
    expect(await a).toBe('new');
    expect(await b).toBe('new');
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('ends the session as expired when the refresh is refused', async () => {
    const store = new TokenStore({ storage: memory() });
    store.useRefreshCall(vi.fn().mockRejectedValue(Object.assign(new Error('revoked'), { status: 401 })));
    store.set({ access: jwt({ exp: sec(NOW) - 1 }), refresh: 'r1' });
    const ended = vi.fn();
    store.subscribe((access, why) => ended(access, why));
    expect(await store.refreshNow()).toBeNull();
    expect(store.loggedIn).toBe(false);
    expect(ended).toHaveBeenCalledWith(null, 'expired');
  });

  it('keeps the session when the server is unreachable, and retries later', async () => {
    const store = new TokenStore({ storage: memory() });
    const call = vi.fn().mockRejectedValueOnce(Object.assign(new Error('offline'), { status: 0 })).mockResolvedValue({ access: 'again' });
    store.useRefreshCall(call);
    store.set({ access: jwt({ exp: sec(NOW) - 1 }), refresh: 'r1' });
    await expect(store.refreshNow()).rejects.toThrow('offline');
    expect(store.loggedIn).toBe(true);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(store.accessToken).toBe('again');
  });

  it("adopts another tab's rotated refresh token instead of logging out", async () => {
    const storage = memory();
    const store = new TokenStore({ storage });
    store.useRefreshCall(vi.fn(async () => {
      // Meanwhile the other tab used r1 first and stored its rotation.
      storage.setItem('photon.access', 'a-other');
      storage.setItem('photon.refresh', 'r2');
      throw Object.assign(new Error('Token has been revoked'), { status: 401 });
    }));
    store.set({ access: jwt({ exp: sec(NOW) - 1 }), refresh: 'r1' });
    expect(await store.refreshNow()).toBe('a-other');
    expect(store.refresh).toBe('r2');
    expect(store.loggedIn).toBe(true);
  });

  it('follows a logout in another tab', () => {
    const storage = memory();
    const store = new TokenStore({ storage });
    const target = new EventTarget();
    store.followOtherTabs(target as unknown as Window);
    store.set({ access: 'a', refresh: 'r' });
    const ended = vi.fn();
    store.subscribe((_a, why) => ended(why));
    storage.removeItem('photon.access');
    storage.removeItem('photon.refresh');
    target.dispatchEvent(Object.assign(new Event('storage'), { key: 'photon.refresh' }));
    expect(store.loggedIn).toBe(false);
    expect(ended).toHaveBeenCalledWith('logout');
  });

  it('reads tokens stored by an earlier page load', () => {
    const storage = memory();
    storage.setItem('photon.access', 'a');
    storage.setItem('photon.refresh', 'r');
    const store = new TokenStore({ storage });
    expect(store.loggedIn).toBe(true);
    store.clear();
    expect(storage.m.size).toBe(0);
  });
});
