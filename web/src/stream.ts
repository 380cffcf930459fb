import { useEffect, useRef, useSyncExternalStore } from 'react';
import { API } from './api.ts';
import { clearSession } from './session.ts';

/**
 * The live stream (`GET /api/v1/stream`, Server-Sent Events) read with
 * fetch() so that it can carry the bearer token (EventSource cannot). One
 * stream per tab; views subscribe to the event types they show and reload
 * their data, debounced. A lost stream is retried with backoff; while it is
 * down views fall back to polling and the header says when data was last
 * read.
 */

export type LiveEventType =
  | 'finding'
  | 'host'
  | 'config'
  | 'incident'
  | 'incident.sla_breached'
  | 'isolation';
/** `resync`: the stream came back after a gap; whatever it missed is unknown, so views reload. */
export type LiveEvent = { type: LiveEventType; data: unknown } | { type: 'resync'; data: null };

export interface StreamState {
  status: 'off' | 'connecting' | 'live' | 'down';
  /** When the next attempt starts (status down). */
  retryAt: number | null;
  /** Last time a view finished reading data from the server. */
  lastUpdated: number | null;
}

/** Silence after which a stream counts as dead (the server sends a heartbeat every 15 s). */
const SILENCE_MS = 45_000;
const MAX_BACKOFF_MS = 30_000;

let state: StreamState = { status: 'off', retryAt: null, lastUpdated: null };
const stateListeners = new Set<() => void>();
const eventListeners = new Set<(e: LiveEvent) => void>();
let stop: AbortController | null = null;

function setState(patch: Partial<StreamState>): void {
  state = { ...state, ...patch };
  for (const l of [...stateListeners]) l();
}

export function markUpdated(): void {
  setState({ lastUpdated: Date.now() });
}

export function useStreamState(): StreamState {
  return useSyncExternalStore(
    (fn) => {
      stateListeners.add(fn);
      return () => stateListeners.delete(fn);
    },
    () => state,
  );
}

function emit(e: LiveEvent): void {
  for (const l of [...eventListeners]) {
    try {
      l(e);
    } catch (err) {
      // One view's failure must not stop the others from hearing the event.
      console.warn('live update listener failed', err);
    }
  }
}

export function startStream(token: string): void {
  stopStream();
  stop = new AbortController();
  void run(token, stop.signal);
}

export function stopStream(): void {
  stop?.abort();
  stop = null;
  setState({ status: 'off', retryAt: null });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

async function run(token: string, signal: AbortSignal): Promise<void> {
  let attempt = 0;
  let everLive = false;
  while (!signal.aborted) {
    setState({ status: 'connecting', retryAt: null });
    const conn = new AbortController();
    const onStop = (): void => conn.abort();
    signal.addEventListener('abort', onStop, { once: true });
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const pet = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => conn.abort(), SILENCE_MS);
    };
    try {
      pet();
      const res = await fetch(`${API}/stream`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: conn.signal,
        cache: 'no-store',
      });
      if (res.status === 401) {
        clearSession('expired');
        return;
      }
      if (res.ok && res.body) {
        attempt = 0;
        setState({ status: 'live', retryAt: null });
        if (everLive) emit({ type: 'resync', data: null });
        everLive = true;
        await readEvents(res.body, pet);
      } else {
        await res.body?.cancel().catch(() => undefined);
      }
    } catch {
      // A network failure or the watchdog: retried below.
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener('abort', onStop);
    }
    if (signal.aborted) return;
    // 1 s, 2 s, 4 s … 30 s, with jitter so that a restarted server is not met by every tab at once.
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempt) * (0.8 + Math.random() * 0.4);
    attempt++;
    setState({ status: 'down', retryAt: Date.now() + delay });
    await sleep(delay, signal);
    // Views missed events while it was down; `resync` on reconnect has them reload.
    everLive = true;
  }
}

/** Reads SSE frames (`event:` / `data:` lines, a blank line ends one) until the stream ends. */
async function readEvents(body: ReadableStream<Uint8Array>, onData: () => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let type = 'message';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onData();
    buf += decoder.decode(value, { stream: true });
    let nl = buf.search(/\r\n|\r|\n/);
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(buf[nl] === '\r' && buf[nl + 1] === '\n' ? nl + 2 : nl + 1);
      if (line === '') {
        if (data.length > 0) dispatch(type, data.join('\n'));
        type = 'message';
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? '' : line.slice(colon + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'event') type = v;
        else if (field === 'data') data.push(v);
      }
      nl = buf.search(/\r\n|\r|\n/);
    }
  }
}

function dispatch(type: string, raw: string): void {
  if (
    type !== 'finding' &&
    type !== 'host' &&
    type !== 'config' &&
    type !== 'incident' &&
    type !== 'incident.sla_breached' &&
    type !== 'isolation'
  )
    return;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return;
  }
  emit({ type, data });
}

/** Polling interval while the stream is down. */
const POLL_MS = 30_000;

/**
 * Calls `reload` (debounced) when an event of one of `types` arrives that
 * `relevant` accepts, when the stream comes back after a gap, and every 30 s
 * while it is down.
 */
export function useLive(
  types: readonly LiveEventType[],
  reload: () => void,
  relevant?: (e: LiveEvent) => boolean,
  debounceMs = 750,
): void {
  const reloadRef = useRef(reload);
  const relevantRef = useRef(relevant);
  reloadRef.current = reload;
  relevantRef.current = relevant;
  const key = types.join(',');
  useEffect(() => {
    const wanted = new Set(key.split(','));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let firstQueued = 0;
    const schedule = (): void => {
      const now = Date.now();
      if (timer === undefined) firstQueued = now;
      clearTimeout(timer);
      // Trailing debounce, but a steady trickle of events still refreshes now and then.
      const wait = Math.max(0, Math.min(debounceMs, firstQueued + Math.max(3000, debounceMs * 3) - now));
      timer = setTimeout(() => {
        timer = undefined;
        reloadRef.current();
      }, wait);
    };
    const onEvent = (e: LiveEvent): void => {
      if (e.type === 'resync') schedule();
      else if (wanted.has(e.type) && (relevantRef.current?.(e) ?? true)) schedule();
    };
    eventListeners.add(onEvent);
    const poll = setInterval(() => {
      if (state.status === 'down') reloadRef.current();
    }, POLL_MS);
    return () => {
      eventListeners.delete(onEvent);
      clearTimeout(timer);
      clearInterval(poll);
    };
  }, [key, debounceMs]);
}
