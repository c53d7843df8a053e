import { describe, expect, it } from 'vitest';
import { SubscriptionManager, type Channel } from './subscriptions';

class FakeChannel implements Channel {
  connected = false;
  sent: Array<[string, string[]]> = [];
  private connectFns: Array<() => void> = [];
  private disconnectFns: Array<() => void> = [];
  refuse: Record<string, string> = {};

  async request<T>(event: string, payload: unknown): Promise<T> {
    const symbols = (payload as { symbols: string[] }).symbols;
    this.sent.push([event, symbols]);
    if (event === 'subscribe') {
      return { joined: symbols.filter((s) => !this.refuse[s]), refused: Object.fromEntries(symbols.filter((s) => this.refuse[s]).map((s) => [s, this.refuse[s]])) } as T;
    }
    return { left: symbols } as T;
  }
  onConnect(fn: () => void) {
    this.connectFns.push(fn);
    return () => undefined;
  }
  onDisconnect(fn: () => void) {
    this.disconnectFns.push(fn);
    return () => undefined;
  }
  connect() {
    this.connected = true;
    this.connectFns.forEach((f) => f());
  }
  drop() {
    this.connected = false;
    this.disconnectFns.forEach((f) => f());
  }
}

describe('SubscriptionManager', () => {
  it('waits for the connection, then subscribes to what is wanted', async () => {
    const ch = new FakeChannel();
    const subs = new SubscriptionManager(ch);
    subs.set(['BTCUSDT', 'aapl']);
    await subs.settled();
    expect(ch.sent).toEqual([]);
    ch.connect();
    await subs.settled();
    expect(ch.sent).toEqual([['subscribe', ['BTCUSDT', 'AAPL']]]);
    expect(subs.subscribed).toEqual(['AAPL', 'BTCUSDT']);
  });

  it('resubscribes everything after a reconnect', async () => {
    const ch = new FakeChannel();
    const subs = new SubscriptionManager(ch);
    ch.connect();
    subs.set(['BTCUSDT', 'AAPL']);
    await subs.settled();
    ch.drop();
    expect(subs.subscribed).toEqual([]);
    ch.connect();
    await subs.settled();
    expect(ch.sent).toEqual([
      ['subscribe', ['BTCUSDT', 'AAPL']],
      ['subscribe', ['BTCUSDT', 'AAPL']],
    ]);
    expect(subs.subscribed).toEqual(['AAPL', 'BTCUSDT']);
  });

  it('sends only the difference when the list changes', async () => {
    const ch = new FakeChannel();
    const subs = new SubscriptionManager(ch);
    ch.connect();
    subs.set(['BTCUSDT', 'AAPL']);
    await subs.settled();
    subs.set(['AAPL', 'MSFT']);
    await subs.settled();
    expect(ch.sent).toEqual([
      ['subscribe', ['BTCUSDT', 'AAPL']],
      ['subscribe', ['MSFT']],
      ['unsubscribe', ['BTCUSDT']],
    ]);
    expect(subs.subscribed).toEqual(['AAPL', 'MSFT']);
  });

  it('coalesces changes made before the last one was sent', async () => {
    const ch = new FakeChannel();
    const subs = new SubscriptionManager(ch);
    ch.connect();
    subs.set(['BTCUSDT']);
    subs.set(['AAPL']);
    await subs.settled();
    expect(ch.sent).toEqual([['subscribe', ['AAPL']]]);
  });

  it('remembers what the server refused, and why', async () => {
    const ch = new FakeChannel();
    ch.refuse = { MSFT: 'You do not watch MSFT; add it to your symbols first' };
    const subs = new SubscriptionManager(ch);
    ch.connect();
    subs.set(['AAPL', 'MSFT']);
    await subs.settled();
    expect(subs.subscribed).toEqual(['AAPL']);
    expect(subs.refused).toEqual({ MSFT: 'You do not watch MSFT; add it to your symbols first' });
  });
});
