// A small history router: a route is the pathname plus the query; links are real <a href>s.
import { useSyncExternalStore, type MouseEvent } from 'react';

export interface Location {
  path: string;
  query: URLSearchParams;
  href: string;
}

const listeners = new Set<() => void>();
let current = read();

function read(): Location {
  const { pathname, search } = window.location;
  return { path: pathname.replace(/\/+$/, '') || '/', query: new URLSearchParams(search), href: pathname + search };
}

function emit() {
  current = read();
  listeners.forEach((fn) => fn());
}

window.addEventListener('popstate', emit);

export function navigate(href: string, { replace = false } = {}): void {
  if (href === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  emit();
  if (!replace) window.scrollTo?.(0, 0);
}

export function useLocation(): Location {
  return useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => {
      // Re-read when something else changed the history (a test, another script).
      if (window.location.pathname + window.location.search !== current.href) current = read();
      return current;
    },
  );
}

/** Turn a plain left click on an <a> into client-side navigation. */
export function linkHandler(href: string) {
  return (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
}

/** Where to go after logging in: only same-origin paths, never back to the login screen. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/login') || next.startsWith('/register')) return '/';
  return next;
}
