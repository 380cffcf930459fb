import { isIP } from 'node:net';

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

/** A learned pool as the server shares it (`GET /api/v1/intel/learned-pools`). */
export interface SharedLearnedPool {
  ip: string;
  port?: number | undefined;
  /** The DNS or TLS name that led to it, when one was seen. */
  name?: string | undefined;
  protocol?: string | undefined;
  first_seen: string;
  last_seen: string;
}

/** The mining-protocol rule whose findings teach pools (src/detect/network/mining-protocol). */
export const LEARNING_RULE = 'deminer.network.mining_protocol';

/**
 * The pools a stored mining-protocol finding teaches: its destination and
 * every `ip:port` it lists, with the pool name when DNS or TLS told it.
 * Bounded: at most 20 per finding (the rule lists no more).
 */
export function learnedFromFinding(f: {
  destination?: { ip?: string; port?: number } | undefined;
  evidence: Record<string, unknown>;
}): { ip: string; port?: number; name?: string; protocol?: string }[] {
  const out = new Map<string, { ip: string; port?: number; name?: string; protocol?: string }>();
  const name = typeof f.evidence['pool_name'] === 'string' ? (f.evidence['pool_name'] as string) : undefined;
  const protocols = f.evidence['protocols'];
  const protocol =
    Array.isArray(protocols) && typeof protocols[0] === 'string'
      ? (protocols[0] as string)
      : typeof f.evidence['protocol'] === 'string'
        ? (f.evidence['protocol'] as string)
        : undefined;
  const add = (ip: string | undefined, port: number | undefined): void => {
    if (ip === undefined || isIP(ip) === 0 || out.size >= 20) return;
    const entry: { ip: string; port?: number; name?: string; protocol?: string } = { ip };
    if (port !== undefined && Number.isInteger(port) && port > 0 && port < 65536) entry.port = port;
    if (name !== undefined && name.length <= 253) entry.name = name;
    if (protocol !== undefined && protocol.length <= 40) entry.protocol = protocol;
    out.set(endpointKey(entry.ip, entry.port), entry);
  };
  add(f.destination?.ip, f.destination?.port);
  const dests = f.evidence['destinations'];
  if (Array.isArray(dests))
    for (const d of dests.slice(0, 20)) {
      if (typeof d !== 'string') continue;
      const i = d.lastIndexOf(':');
      if (i <= 0) continue;
      const ip = d.slice(0, i).replace(/^\[|\]$/g, '');
      const port = Number(d.slice(i + 1));
      add(ip, Number.isInteger(port) ? port : undefined);
    }
  return [...out.values()];
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
 * Kept in memory for one analysis; through the platform, the server keeps
 * the fleet's (`GET /api/v1/intel/learned-pools`, from the mining-protocol
 * findings it stores) and a sensor or hunt that reports to it starts with
 * them (`seed`), so one sensor's discovery protects the next analysis.
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

  /**
   * Pools learned elsewhere (the server's list): each kept as first learned
   * there, living `ttlMs` from its `last_seen`. Entries that do not parse
   * (no address, a bad time) are skipped; returns how many were taken.
   */
  seed(entries: readonly SharedLearnedPool[]): number {
    let taken = 0;
    for (const e of entries.slice(0, this.#max)) {
      const t = Date.parse(e.last_seen);
      if (!Number.isFinite(t) || typeof e.ip !== 'string' || e.ip === '') continue;
      const port = Number.isInteger(e.port) && e.port! > 0 && e.port! < 65536 ? e.port : undefined;
      this.learn(
        e.ip,
        port,
        typeof e.name === 'string' && e.name !== '' && e.name.length <= 253
          ? e.name.toLowerCase()
          : undefined,
        {
          host: 'the fleet (server)',
          address: '',
          protocol: typeof e.protocol === 'string' ? e.protocol.slice(0, 40) : 'stratum',
          method: 'learned elsewhere',
        },
        t,
      );
      taken++;
    }
    return taken;
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
