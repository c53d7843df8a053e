// The ONE Socket.IO connection: websocket only, authenticated with the current access token on
// every (re)connect, reconnecting with backoff, and refreshing the token when Photon refuses it.
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'refused';

export interface ConnectionSnapshot {
  state: ConnectionState;
  attempts: number;
  /** Why the last attempt failed, as the server or the network said. */
  reason: string | null;
  /** Whether this connection was ever up: a first connect failing is not a "lost" connection. */
  everConnected: boolean;
}

/** The part of the token store the connection needs. */
export interface TokenSource {
  readonly accessToken: string | null;
  validAccess(): Promise<string | null>;
  refreshNow(): Promise<string | null>;
}

export type SocketFactory = (opts: Partial<ManagerOptions & SocketOptions>) => Socket;

type Handler = (payload: never) => void;

export const SOCKET_OPTIONS: Partial<ManagerOptions & SocketOptions> = {
  // Websocket only: no long-polling, so no sticky sessions behind a balancer.
  transports: ['websocket'],
  reconnection: true,
  reconnectionDelay: 500,
  reconnectionDelayMax: 5_000,
  randomizationFactor: 0.5,
  timeout: 8_000,
  autoConnect: false,
};

const MAX_REFUSALS = 4;

export class Connection {
  private socket: Socket | null = null;
  private snapshot: ConnectionSnapshot = { state: 'idle', attempts: 0, reason: null, everConnected: false };
  private listeners = new Set<() => void>();
  private handlers = new Map<string, Set<Handler>>();
  private connectHooks = new Set<() => void>();
  private disconnectHooks = new Set<() => void>();
  private refusals = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly factory: SocketFactory,
    private readonly tokens: TokenSource,
  ) {}

  get connected(): boolean {
    return this.snapshot.state === 'connected';
  }

  getSnapshot = (): ConnectionSnapshot => this.snapshot;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  start(): void {
    if (this.socket) return;
    const socket = this.factory({
      ...SOCKET_OPTIONS,
      // A function, so that each reconnect authenticates with the token current at that moment.
      auth: (cb: (data: object) => void) => {
        this.tokens
          .validAccess()
          .catch(() => this.tokens.accessToken)
          .then((token) => cb({ token: token ?? '' }));
      },
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.refusals = 0;
      this.set({ state: 'connected', attempts: 0, reason: null, everConnected: true });
      this.connectHooks.forEach((fn) => fn());
    });
    socket.on('disconnect', (reason: string) => {
      this.disconnectHooks.forEach((fn) => fn());
      if (reason === 'io client disconnect') {
        this.set({ state: 'idle' });
      } else if (reason === 'io server disconnect') {
        // The server closed this session (a revoked token, say): it will not retry by itself.
        this.set({ state: 'reconnecting', reason: 'The server closed the connection' });
        this.refreshAndRetry();
      } else {
        this.set({ state: 'reconnecting', reason: humanReason(reason) });
      }
    });
    socket.on('connect_error', (err: Error) => {
      if (socket.active) {
        // A network problem: the manager retries with backoff by itself.
        this.set({ state: 'reconnecting', attempts: this.snapshot.attempts + 1, reason: humanReason(err.message) });
      } else {
        // Photon refused the connection (bad or expired token): refresh, then try again.
        this.set({ state: 'refused', attempts: this.snapshot.attempts + 1, reason: err.message });
        this.refreshAndRetry();
      }
    });
    for (const [event, set] of this.handlers) for (const fn of set) socket.on(event, fn as never);
    this.set({ state: 'connecting', reason: null, attempts: 0, everConnected: false });
    socket.connect();
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
    this.refusals = 0;
    this.set({ state: 'idle', attempts: 0, reason: null, everConnected: false });
  }

  /** Listen to a server event; the handler survives reconnects. Returns an unsubscribe. */
  on<T>(event: string, fn: (payload: T) => void): () => void {
    const set = this.handlers.get(event) ?? new Set<Handler>();
    this.handlers.set(event, set);
    set.add(fn as Handler);
    this.socket?.on(event, fn as never);
    return () => {
      set.delete(fn as Handler);
      this.socket?.off(event, fn as never);
    };
  }

  onConnect(fn: () => void): () => void {
    this.connectHooks.add(fn);
    return () => this.connectHooks.delete(fn);
  }

  onDisconnect(fn: () => void): () => void {
    this.disconnectHooks.add(fn);
    return () => this.disconnectHooks.delete(fn);
  }

  /** Emit and wait for the server's acknowledgement. */
  request<T>(event: string, payload: unknown, timeoutMs = 8_000): Promise<T> {
    const socket = this.socket;
    if (!socket || !this.connected) return Promise.reject(new Error('Not connected'));
    return new Promise<T>((resolve, reject) => {
      socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, answer: T) => {
        if (err) reject(err);
        else resolve(answer);
      });
    });
  }

  private refreshAndRetry(): void {
    this.refusals += 1;
    if (this.refusals > MAX_REFUSALS) {
      this.set({ state: 'refused', reason: `${this.snapshot.reason ?? 'Refused'} (gave up after ${MAX_REFUSALS} tries; reload to retry)` });
      return;
    }
    const delay = Math.min(8_000, 500 * 2 ** (this.refusals - 1));
    this.tokens
      .refreshNow()
      .catch(() => this.tokens.accessToken)
      .then((token) => {
        if (!token || !this.socket) return; // the session is over; the app logs out
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.socket?.connect();
        }, delay);
      });
  }

  private set(patch: Partial<ConnectionSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    this.listeners.forEach((fn) => fn());
  }
}

function humanReason(reason: string): string {
  switch (reason) {
    case 'transport close':
    case 'transport error':
      return 'The connection to Photon dropped';
    case 'ping timeout':
      return 'Photon stopped answering';
    case 'websocket error':
    case 'xhr poll error':
      return 'Photon is unreachable';
    default:
      return reason;
  }
}
