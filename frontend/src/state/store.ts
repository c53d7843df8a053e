// A tiny external store per concern (FreqUI keeps one Pinia store per concern; this is the React
// equivalent with useSyncExternalStore, and no library).
import { useSyncExternalStore } from 'react';

export interface Store<T> {
  get(): T;
  set(next: T | ((prev: T) => T)): void;
  subscribe(fn: () => void): () => void;
  reset(): void;
}

export function createStore<T>(initial: () => T): Store<T> {
  let state = initial();
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    set(next) {
      const value = typeof next === 'function' ? (next as (prev: T) => T)(state) : next;
      if (Object.is(value, state)) return;
      state = value;
      listeners.forEach((fn) => fn());
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    reset() {
      state = initial();
      listeners.forEach((fn) => fn());
    },
  };
}

/** Read a store; `select` must return a value already held in the state (or a primitive). */
export function useStore<T, S = T>(store: Store<T>, select: (state: T) => S = (s) => s as unknown as S): S {
  return useSyncExternalStore(store.subscribe, () => select(store.get()));
}
