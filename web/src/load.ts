import { useCallback, useEffect, useRef, useState } from 'react';
import { markUpdated } from './stream.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  /** True until the first answer for the current key (a reload keeps showing the old data). */
  loading: boolean;
  reload: () => void;
}

/**
 * Reads data for a view: again whenever `key` changes (a new filter in the
 * address) and when `reload` is called (a live event). The previous data
 * stays on screen while a reload runs, so live updates do not flicker; a
 * superseded request is aborted.
 */
export function useLoad<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const loadRef = useRef(load);
  loadRef.current = load;
  const [version, setVersion] = useState(0);
  const [result, setResult] = useState<{ key: string; data?: T; error?: unknown }>({ key: '' });
  useEffect(() => {
    const ac = new AbortController();
    const started = { key, version };
    loadRef.current(ac.signal).then(
      (data) => {
        if (ac.signal.aborted) return;
        setResult({ key: started.key, data });
        markUpdated();
      },
      (error: unknown) => {
        if (ac.signal.aborted) return;
        setResult((prev) => (prev.key === started.key ? { ...prev, error } : { key: started.key, error }));
      },
    );
    return () => ac.abort();
  }, [key, version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const current = result.key === key;
  return {
    data: current ? result.data : undefined,
    error: current ? result.error : undefined,
    loading: !current || (result.data === undefined && result.error === undefined),
    reload,
  };
}
