// The ONE subscription manager: keeps the server's symbol rooms equal to the tickers the app
// wants, and joins them all again after every (re)connect (a new connection has no rooms).

export interface SubscribeAck {
  joined: string[];
  refused: Record<string, string>;
  error?: string;
}

export interface Channel {
  readonly connected: boolean;
  request<T>(event: string, payload: unknown): Promise<T>;
  onConnect(fn: () => void): () => void;
  onDisconnect(fn: () => void): () => void;
}

export class SubscriptionManager {
  private wanted = new Set<string>();
  private joined = new Set<string>();
  private refusedMap: Record<string, string> = {};
  private chain: Promise<void> = Promise.resolve();
  private listeners = new Set<() => void>();
  private offs: Array<() => void>;

  constructor(private readonly channel: Channel) {
    this.offs = [
      channel.onConnect(() => {
        this.joined.clear();
        this.sync();
      }),
      channel.onDisconnect(() => this.joined.clear()),
    ];
  }

  /** The tickers to receive quotes for; idempotent. */
  set(tickers: Iterable<string>): void {
    this.wanted = new Set([...tickers].map((t) => t.toUpperCase()));
    let forgot = false;
    for (const t of Object.keys(this.refusedMap)) {
      if (!this.wanted.has(t)) {
        delete this.refusedMap[t];
        forgot = true;
      }
    }
    if (forgot) this.listeners.forEach((fn) => fn());
    this.sync();
  }

  get subscribed(): string[] {
    return [...this.joined].sort();
  }

  get refused(): Record<string, string> {
    return { ...this.refusedMap };
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  dispose(): void {
    this.offs.forEach((off) => off());
    this.wanted.clear();
    this.joined.clear();
  }

  /** Resolves when every change asked for so far has been sent. */
  settled(): Promise<void> {
    return this.chain;
  }

  private sync(): void {
    this.chain = this.chain.then(() => this.syncOnce()).catch(() => undefined);
  }

  private async syncOnce(): Promise<void> {
    if (!this.channel.connected) return;
    const join = [...this.wanted].filter((t) => !this.joined.has(t));
    const leave = [...this.joined].filter((t) => !this.wanted.has(t));
    if (join.length) {
      const ack = await this.channel.request<SubscribeAck>('subscribe', { symbols: join });
      for (const t of ack?.joined ?? []) this.joined.add(t.toUpperCase());
      for (const [t, why] of Object.entries(ack?.refused ?? {})) this.refusedMap[t.toUpperCase()] = why;
    }
    if (leave.length) {
      await this.channel.request('unsubscribe', { symbols: leave });
      leave.forEach((t) => this.joined.delete(t));
    }
    if (join.length || leave.length) this.listeners.forEach((fn) => fn());
  }
}
