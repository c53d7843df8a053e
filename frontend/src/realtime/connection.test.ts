import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Socket } from 'socket.io-client';
import { Connection, SOCKET_OPTIONS, type TokenSource } from './connection';

type Fn = (...args: unknown[]) => void;

class FakeSocket {
  active = false;
  handlers = new Map<string, Fn[]>();
  connects = 0;
  lastAuth: unknown = null;
  constructor(public opts: Record<string, unknown>) {}
  on(ev: string, fn: Fn) {
    this.handlers.set(ev, [...(this.handlers.get(ev) ?? []), fn]);
    return this;
  }
  off(ev: string, fn: Fn) {
    this.handlers.set(ev, (this.handlers.get(ev) ?? []).filter((f) => f !== fn));
    return this;
  }
  removeAllListeners() {
    this.handlers.clear();
    return this;
  }
  fire(ev: string, ...args: unknown[]) {
    (this.handlers.get(ev) ?? []).forEach((f) => f(...args));
  }
  connect() {
    this.connects += 1;
    this.active = true;
    (this.opts.auth as (cb: (d: unknown) => void) => void)((d) => (this.lastAuth = d));
    return this;
  }
  disconnect() {
    this.active = false;
    return this;
  }
  timeout() {
    return this;
  }
  emit() {
    return this;
  }
}

function tokens(initial: string): TokenSource & { token: string; refreshNow: ReturnType<typeof vi.fn> } {
  const t = {
    token: initial,
    get accessToken() {
      return t.token;
    },
    validAccess: async () => t.token,
    refreshNow: vi.fn(async () => {
      t.token = 'fresh';
      return t.token;
    }),
  };
  return t;
}

describe('Connection', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('connects over websocket only, with the access token', async () => {
    let sock!: FakeSocket;
    const conn = new Connection((opts) => (sock = new FakeSocket(opts as Record<string, unknown>)) as unknown as Socket, tokens('t1'));
    conn.start();
    await vi.runAllTimersAsync();
    expect(sock.opts.transports).toEqual(['websocket']);
    expect(SOCKET_OPTIONS.transports).toEqual(['websocket']);
    expect(sock.lastAuth).toEqual({ token: 't1' });
    expect(conn.getSnapshot().state).toBe('connecting');
    sock.fire('connect');
    expect(conn.getSnapshot()).toMatchObject({ state: 'connected', everConnected: true });
  });

  it('shows a lost connection while the manager retries, and clears it on reconnect', () => {
    let sock!: FakeSocket;
    const hooks = { connect: 0 };
    const conn = new Connection((opts) => (sock = new FakeSocket(opts as Record<string, unknown>)) as unknown as Socket, tokens('t1'));
    conn.onConnect(() => hooks.connect++);
    conn.start();
    sock.fire('connect');
    sock.fire('disconnect', 'transport close');
    expect(conn.getSnapshot()).toMatchObject({ state: 'reconnecting', reason: 'The connection to Photon dropped' });
    sock.active = true;
    sock.fire('connect_error', new Error('websocket error'));
    expect(conn.getSnapshot().attempts).toBe(1);
    sock.fire('connect');
    expect(conn.getSnapshot().state).toBe('connected');
    expect(hooks.connect).toBe(2);
  });

  it('refreshes the token and reconnects when Photon refuses the connection', async () => {
    let sock!: FakeSocket;
    const src = tokens('expired');
    const conn = new Connection((opts) => (sock = new FakeSocket(opts as Record<string, unknown>)) as unknown as Socket, src);
    conn.start();
    await vi.runAllTimersAsync();
    expect(sock.lastAuth).toEqual({ token: 'expired' });
    sock.active = false; // a refusal: socket.io does not retry by itself
    sock.fire('connect_error', new Error('Invalid token: Signature has expired'));
    expect(conn.getSnapshot().state).toBe('refused');
    await vi.runAllTimersAsync();
    expect(src.refreshNow).toHaveBeenCalledTimes(1);
    expect(sock.connects).toBe(2);
    expect(sock.lastAuth).toEqual({ token: 'fresh' });
  });

  it('gives up after repeated refusals instead of looping', async () => {
    let sock!: FakeSocket;
    const conn = new Connection((opts) => (sock = new FakeSocket(opts as Record<string, unknown>)) as unknown as Socket, tokens('bad'));
    conn.start();
    for (let i = 0; i < 6; i++) {
      sock.active = false;
      sock.fire('connect_error', new Error('Invalid token'));
      await vi.runAllTimersAsync();
    }
    expect(sock.connects).toBe(5); // the first plus four retries
    expect(conn.getSnapshot().reason).toMatch(/gave up/);
  });

  it('keeps event handlers across a stop and start', () => {
    const socks: FakeSocket[] = [];
    const conn = new Connection((opts) => {
      const s = new FakeSocket(opts as Record<string, unknown>);
      socks.push(s);
      return s as unknown as Socket;
    }, tokens('t'));
    const got: unknown[] = [];
    conn.on('quote', (q) => got.push(q));
    conn.start();
    conn.stop();
    conn.start();
    socks[1].fire('quote', { symbol: 'BTCUSDT' });
    expect(got).toEqual([{ symbol: 'BTCUSDT' }]);
  });
});
