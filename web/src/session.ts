import type { ConsoleRole } from './types.ts';

/**
 * The login: the pasted token and the role it was found to have, kept in
 * sessionStorage (gone when the tab closes; never in localStorage, where a
 * token would outlive the session and be shared by every tab).
 */
export interface Session {
  token: string;
  role: ConsoleRole;
  /** The token's id and name, when the server says them (whoami). */
  id?: string;
  name?: string;
}

const KEY = 'deminer.session';
const listeners = new Set<() => void>();
let current: Session | null = read();
/** Why the last session ended, for the login page to say. */
let endedBecause: 'expired' | 'logout' | null = null;

function read(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null) return null;
    const { token, role, name, id } = v as Record<string, unknown>;
    if (typeof token !== 'string' || token === '') return null;
    if (role !== 'admin' && role !== 'analyst' && role !== 'viewer') return null;
    const s: Session = { token, role };
    if (typeof name === 'string') s.name = name;
    if (typeof id === 'string') s.id = id;
    return s;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  return current;
}

export function sessionEndReason(): 'expired' | 'logout' | null {
  return endedBecause;
}

export function setSession(s: Session): void {
  current = s;
  endedBecause = null;
  sessionStorage.setItem(KEY, JSON.stringify(s));
  notify();
}

export function clearSession(why: 'expired' | 'logout'): void {
  if (current === null) return;
  current = null;
  endedBecause = why;
  sessionStorage.removeItem(KEY);
  notify();
}

export function subscribeSession(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function notify(): void {
  for (const l of [...listeners]) l();
}

/** Who may acknowledge findings (and, as the response issue lands, act on hosts). */
export function canAct(s: Session | null): boolean {
  return s?.role === 'admin' || s?.role === 'analyst';
}
