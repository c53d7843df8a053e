import { describe, expect, it, vi } from 'vitest';
import { jwt, mockFetch } from '../test/helpers';
import { ApiClient, parsePagination, queryString } from './client';
import { ApiError } from './errors';
import { TokenStore } from './tokens';

const future = () => Math.floor(Date.now() / 1000) + 900;

function setup(routes: Parameters<typeof mockFetch>[0]) {
  const { fn, calls } = mockFetch(routes);
  const store = new TokenStore();
  const client = new ApiClient(store, '', fn as unknown as typeof fetch);
  return { store, client, calls };
}

describe('ApiClient', () => {
  it('sends the bearer token and reads the pagination header', async () => {
    const { store, client, calls } = setup({
      'GET /api/trading/symbols/': { body: [{ id: 1, symbol: 'BTCUSDT' }], headers: { 'X-Pagination': '{"total": 1, "total_pages": 1, "page": 1}' } },
    });
    const access = jwt({ exp: future() });
    store.set({ access, refresh: 'r' });
    const page = await client.symbols();
    expect(page.items).toHaveLength(1);
    expect(page.pagination?.total).toBe(1);
    expect(calls[0].headers.Authorization).toBe(`Bearer ${access}`);
  });

  it('refreshes once on a 401 and retries with the new token', async () => {
    const fresh = jwt({ exp: future(), n: 2 });
    let n = 0;
    const { store, client, calls } = setup({
      'POST /api/auth/refresh/': { body: { access: fresh, refresh: 'rotated' } },
      'GET /api/auth/me/': ({ headers }) => (headers.Authorization === `Bearer ${fresh}` ? { body: { id: 1, username: 'a' } } : (n++, { status: 401, body: { code: 401, message: 'Token has been revoked', errors: {} } })),
    });
    store.set({ access: jwt({ exp: future(), n: 1 }), refresh: 'r' });
    expect((await client.me()).username).toBe('a');
    expect(n).toBe(1);
    expect(calls.map((c) => c.path)).toEqual(['/api/auth/me/', '/api/auth/refresh/', '/api/auth/me/']);
    expect(store.refresh).toBe('rotated');
  });

  it('ends the session as expired when the retry is refused too', async () => {
    const { store, client } = setup({
      'POST /api/auth/refresh/': { status: 401, body: { code: 401, message: 'Token has expired', errors: {} } },
      'GET /api/auth/me/': { status: 401, body: { code: 401, message: 'Token has expired', errors: {} } },
    });
    const ended = vi.fn();
    store.set({ access: jwt({ exp: future() }), refresh: 'r' });
    store.subscribe((_a, why) => ended(why));
    await expect(client.me()).rejects.toBeInstanceOf(ApiError);
    expect(store.loggedIn).toBe(false);
    expect(ended).toHaveBeenCalledWith('expired');
  });

  it("turns the server's error body into an ApiError with field errors", async () => {
    const { client } = setup({
      'POST /api/auth/register/': { status: 409, body: { code: 409, status: 'Conflict', message: 'That username is already registered', errors: { username: ['Taken.'] } } },
    });
    const err = (await client.register('a', 'a@b.c', 'x').catch((e) => e)) as ApiError;
    expect(err.status).toBe(409);
    expect(err.message).toBe('That username is already registered');
    expect(err.field('username')).toBe('Taken.');
  });

  it('reads Retry-After on a 503', async () => {
    const { store, client } = setup({
      'POST /api/trading/symbols/': { status: 503, body: { code: 503, message: 'Bybit is unreachable', errors: {} }, headers: { 'Retry-After': '30' } },
    });
    store.set({ access: jwt({ exp: future() }), refresh: 'r' });
    const err = (await client.addSymbol('BTC').catch((e) => e)) as ApiError;
    expect(err.message).toBe('Bybit is unreachable');
    expect(err.retryAfter).toBe(30);
  });

  it('says when Photon is unreachable', async () => {
    const store = new TokenStore();
    const client = new ApiClient(store, '', (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch);
    const err = (await client.login('a', 'b').catch((e) => e)) as ApiError;
    expect(err.offline).toBe(true);
  });
});

describe('helpers', () => {
  it('builds query strings without empty values', () => {
    expect(queryString({ symbol_id: 1, interval: '1h', end: undefined, start: '' })).toBe('?symbol_id=1&interval=1h');
    expect(queryString()).toBe('');
  });
  it('tolerates a bad pagination header', () => {
    expect(parsePagination('nope')).toBeNull();
  });
});
