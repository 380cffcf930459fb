import { useEffect, useSyncExternalStore } from 'react';
import { getSession, type Session, subscribeSession } from './session.ts';

export function useSession(): Session | null {
  return useSyncExternalStore(subscribeSession, getSession);
}

/** The tab's title says where one is (history, screen readers). */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · deminer`;
  }, [title]);
}
