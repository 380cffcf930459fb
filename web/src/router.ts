import { useSyncExternalStore } from 'react';

/**
 * A small History API router: the path picks the page, the query string
 * holds the page's filters, so every view is a link that can be shared
 * (the server answers index.html for any console path).
 */
export interface Location {
  path: string;
  query: URLSearchParams;
  /** path + search: changes whenever anything in the address does. */
  key: string;
}

const NAV_EVENT = 'deminer:navigate';

function snapshot(): string {
  return window.location.pathname + window.location.search;
}

function subscribe(fn: () => void): () => void {
  window.addEventListener('popstate', fn);
  window.addEventListener(NAV_EVENT, fn);
  return () => {
    window.removeEventListener('popstate', fn);
    window.removeEventListener(NAV_EVENT, fn);
  };
}

export function useLocation(): Location {
  const key = useSyncExternalStore(subscribe, snapshot);
  const i = key.indexOf('?');
  return {
    path: i < 0 ? key : key.slice(0, i),
    query: new URLSearchParams(i < 0 ? '' : key.slice(i + 1)),
    key,
  };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAV_EVENT));
  if (!opts.replace) window.scrollTo(0, 0);
}

/** The current path with these query parameters changed (undefined or '' removes one). */
export function withQuery(loc: Location, changes: Record<string, string | undefined>): string {
  const q = new URLSearchParams(loc.query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  return s === '' ? loc.path : `${loc.path}?${s}`;
}

/** `/hosts/:id` against `/hosts/abc` → { id: 'abc' }, or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const a = (path.length > 1 ? path.replace(/\/+$/, '') : path).split('/');
  if (p.length !== a.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    const val = a[i]!;
    if (seg.startsWith(':')) {
      if (val === '') return null;
      try {
        out[seg.slice(1)] = decodeURIComponent(val);
      } catch {
        return null;
      }
    } else if (seg !== val) return null;
  }
  return out;
}
