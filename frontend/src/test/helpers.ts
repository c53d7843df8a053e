import { vi } from 'vitest';

/** An unsigned JWT with the claims given (the client only reads the payload). */
export function jwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}.signature`;
}

type Handler = (req: { method: string; url: URL; body: unknown; headers: Record<string, string> }) => { status?: number; body?: unknown; headers?: Record<string, string> } | undefined;

/** Route fetch calls by "METHOD /path"; unmatched calls answer 404 in Photon's error shape. */
export function mockFetch(routes: Record<string, Handler | { status?: number; body?: unknown; headers?: Record<string, string> }>) {
  const calls: Array<{ method: string; path: string; body: unknown; headers: Record<string, string> }> = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://localhost');
    const method = (init.method ?? 'GET').toUpperCase();
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    const headers = (init.headers ?? {}) as Record<string, string>;
    calls.push({ method, path: url.pathname + url.search, body, headers });
    const route = routes[`${method} ${url.pathname}`];
    const answer = typeof route === 'function' ? route({ method, url, body, headers }) : route;
    const status = answer?.status ?? (answer ? 200 : 404);
    const payload = answer ? answer.body : { code: 404, status: 'Not Found', message: 'The requested URL was not found on the server.', errors: {} };
    return new Response(status === 204 ? null : JSON.stringify(payload ?? null), { status, headers: { 'Content-Type': 'application/json', ...(answer?.headers ?? {}) } });
  });
  vi.stubGlobal('fetch', fn);
  return { fn, calls };
}
