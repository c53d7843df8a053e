import { io } from 'socket.io-client';
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { tokens } from '../api/tokens';
import { Connection, type ConnectionSnapshot } from './connection';
import { SubscriptionManager } from './subscriptions';

// Same origin: Photon serves the dashboard, the API and Socket.IO on one port.
export const connection = new Connection((opts) => io(opts), tokens);
export const subscriptions = new SubscriptionManager(connection);

export function useConnection(): ConnectionSnapshot {
  return useSyncExternalStore(connection.subscribe, connection.getSnapshot);
}

/** Run `fn` for every `event` while the component is mounted. */
export function useSocketEvent<T>(event: string, fn: (payload: T) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => connection.on<T>(event, (p) => ref.current(p)), [event]);
}

let refusedCache: Record<string, string> = {};
subscriptions.onChange(() => (refusedCache = subscriptions.refused));

/** Tickers the server refused live quotes for, and why. */
export function useRefusedSymbols(): Record<string, string> {
  return useSyncExternalStore(
    (fn) => subscriptions.onChange(fn),
    () => refusedCache,
  );
}
