/** Where a learned pool was learned: the host seen mining to it and how. */
export interface LearnedFrom {
  /** The mining host as findings name it. */
  host: string;
  /** Its address on the wire. */
  address: string;
  /** The pool endpoint it mined to, `ip:port` (`[v6]:port`). */
  endpoint: string;
  /** The DNS or TLS name that led to the endpoint, when the stream showed one. */
  name?: string;
  protocol: string;
  method: string;
  /** When the mining was first seen (UTC ISO-8601). */
  first_seen: string;
  /** When it was last seen; the entry expires `ttlMs` after this. */
  last_seen: string;
}

export interface LearnedPoolsOptions {
  /** Endpoints (and, separately, names) kept; the least recently seen goes first. */
  maxEntries?: number;
  /** How long an entry lives after its mining was last seen. */
  ttlMs?: number;
}

export const DEFAULT_LEARNED_POOLS: Required<LearnedPoolsOptions> = {
  maxEntries: 10_000,
  ttlMs: 7 * 24 * 3600_000,
};

interface Entry {
  from: LearnedFrom;
  lastSeenMs: number;
}

export function endpointKey(ip: string, port: number | undefined): string {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${port}`;
}

/**
 * Pools this run has seen a host mine to: endpoints (`ip:port`) and the
 * names that led to them. Bounded (least recently seen out first) and
 * expiring; time comes from the caller (event time), never the clock.
 * Kept in memory for one analysis: persisting them or sharing them through
 * the server is a later step.
 */
export class LearnedPools {
  readonly #max: number;
  readonly #ttl: number;
  readonly #endpoints = new Map<string, Entry>();
  /** Address → the endpoint key last learned on it, for lookups without a port. */
  readonly #addresses = new Map<string, string>();
  readonly #names = new Map<string, Entry>();
  evicted = 0;

  constructor(opts: LearnedPoolsOptions = {}) {
    this.#max = Math.max(0, opts.maxEntries ?? DEFAULT_LEARNED_POOLS.maxEntries);
    this.#ttl = opts.ttlMs ?? DEFAULT_LEARNED_POOLS.ttlMs;
  }

  get size(): number {
    return this.#endpoints.size;
  }

  get nameCount(): number {
    return this.#names.size;
  }

  /** A host seen speaking a mining protocol to `ip:port` (and `name`, when known) at `tsMs`. */
  learn(
    ip: string,
    port: number | undefined,
    name: string | undefined,
    from: Omit<LearnedFrom, 'endpoint' | 'name' | 'first_seen' | 'last_seen'>,
    tsMs: number,
  ): void {
    if (this.#max === 0) return;
    // Captures carry whatever time their headers say: out-of-range times count as the epoch.
    const t = Number.isFinite(tsMs) && Math.abs(tsMs) <= 8.64e15 ? tsMs : 0;
    const key = endpointKey(ip, port);
    const at = new Date(t).toISOString();
    const old = this.#endpoints.get(key);
    // The first host seen mining there stays the one named; later sightings only keep it alive.
    const learned: LearnedFrom = old
      ? { ...old.from, last_seen: at }
      : { ...from, endpoint: key, first_seen: at, last_seen: at };
    if (name !== undefined && learned.name === undefined) learned.name = name;
    const entry: Entry = { from: learned, lastSeenMs: Math.max(t, old?.lastSeenMs ?? t) };
    this.#put(this.#endpoints, key, entry);
    this.#addresses.delete(ip);
    this.#addresses.set(ip, key);
    while (this.#addresses.size > this.#max) this.#dropFirst(this.#addresses);
    if (learned.name !== undefined) this.#put(this.#names, learned.name, entry);
  }

  /** The learned pool at `ip:port` (any port of `ip` when the port is unknown), if still live. */
  endpoint(ip: string, port: number | undefined, nowMs: number): LearnedFrom | undefined {
    const key = port === undefined ? this.#addresses.get(ip) : endpointKey(ip, port);
    const from = key === undefined ? undefined : this.#live(this.#endpoints, key, nowMs);
    // The pool was seen: its name moves back in the eviction order too.
    if (from?.name !== undefined) this.#live(this.#names, from.name, nowMs);
    return from;
  }

  /** The learned pool a name led to, if still live (exact name: a pool's siblings are not assumed). */
  name(name: string, nowMs: number): LearnedFrom | undefined {
    if (this.#names.size === 0) return undefined;
    return this.#live(this.#names, name, nowMs);
  }

  #live(map: Map<string, Entry>, key: string, nowMs: number): LearnedFrom | undefined {
    const e = map.get(key);
    if (e === undefined) return undefined;
    if (nowMs - e.lastSeenMs > this.#ttl) {
      map.delete(key);
      return undefined;
    }
    // A lookup is a sighting too: the entry moves to the back of the eviction order.
    map.delete(key);
    map.set(key, e);
    return e.from;
  }

  #put(map: Map<string, Entry>, key: string, e: Entry): void {
    map.delete(key);
    map.set(key, e);
    while (map.size > this.#max) {
      this.#dropFirst(map);
      this.evicted++;
    }
  }

  #dropFirst(map: Map<string, unknown>): void {
    const first = map.keys().next().value;
    if (first !== undefined) map.delete(first);
  }
}
