import { isIP } from 'node:net';
import type { IntelEngine, IntelMatch, IntelVerdict } from '../../intel/index.ts';
import type { LearnedFrom, LearnedPoolsOptions, SharedLearnedPool } from './learned-pools.ts';
import { endpointKey, LearnedPools } from './learned-pools.ts';

/**
 * Source name of the built-in pool list in evidence: the same list and name
 * as the shipped intel feed (data/intel/pools.txt), which this check also
 * reads directly so that it works with intel turned off.
 */
export const BUILTIN_POOLS_SOURCE = 'deminer-pools';
/** Source name of pools learned from mining seen in this analysis. */
export const LEARNED_POOLS_SOURCE = 'deminer-learned';
/** Same weight as the shipped intel feed: a curated list of public pools. */
const BUILTIN_POOLS_CONFIDENCE = 80;
/** Seen mining first-hand: as sure as the list, though only for this run. */
const LEARNED_POOLS_CONFIDENCE = 80;
const BUILTIN_PDNS_MAX = 50_000;
const TLS_NAMES_MAX = 50_000;
/** (host, pool) pairs whose places are remembered; the oldest are forgotten past this. */
const SEEN_MAX = 50_000;
/** Places kept per (host, pool). */
const SEEN_PLACES_MAX = 16;

/** What a pool finding says about the indicator that matched (evidence `intel`). */
export interface PoolHit {
  indicator: string;
  type: IntelMatch['type'] | 'passive-dns' | 'learned';
  source: string;
  confidence: number;
  /** Passive DNS: the listed name whose answer carried the address. */
  via?: string;
  /** Learned pools: the host whose mining taught it. */
  learnedFrom?: LearnedFrom;
}

/** A listed value, a value the allow-list covers (never reported), or nothing known. */
export type PoolVerdict = PoolHit | 'allowed' | undefined;

export interface PoolCheckOptions {
  /** The threat-intel engine; left out with --no-intel. */
  intel?: IntelEngine | undefined;
  /** Pool domains known without intel (each matches its subdomains): the shipped pool list. */
  builtinPools?: ReadonlySet<string> | undefined;
  /** Bounds of the learned pools; `false` turns learning off. */
  learned?: LearnedPoolsOptions | false | undefined;
}

/** What the mining-protocol rule saw: a host speaking a mining protocol to a pool endpoint. */
export interface MiningSighting {
  ip: string;
  port?: number | undefined;
  /** The DNS answer or TLS name that led to the address, if the caller knows one. */
  name?: string | undefined;
  host: string;
  address: string;
  protocol: string;
  method: string;
  tsMs: number;
}

/**
 * What one place saw: a name looked up or contacted, an address (and port)
 * connected to, or a URL fetched, by `host` (and `process`, when known).
 * `where` names the place: `dns`, `tls`, `http`, `connection` on the wire;
 * `sysmon:22`, `sysmon:3`, `security:5156` … in event logs; `cmdline`,
 * `socket` on a host.
 */
export type Sighting =
  | { kind: 'domain'; indicator: string; where: string; host: string; process?: string | undefined }
  | {
      kind: 'endpoint';
      indicator: string;
      port?: number | undefined;
      where: string;
      host: string;
      process?: string | undefined;
    }
  | {
      kind: 'url';
      indicator: string;
      urlHost: string;
      where: string;
      host: string;
      process?: string | undefined;
    };

/** A sighting of a pool: the hit, and every place this host has been seen meeting this pool so far. */
export interface PoolSighting extends PoolHit {
  /** In the order first seen; the current place included (evidence `seen_in`). */
  seenIn: string[];
}

function fromVerdict(v: IntelVerdict): PoolVerdict {
  if (v.allowed) return 'allowed';
  if (!v.listed) return undefined;
  // The most confident match speaks for the verdict; the engine keeps feed order otherwise.
  let best = v.matches[0];
  for (const m of v.matches) if (best && m.confidence > best.confidence) best = m;
  if (!best) return undefined;
  const hit: PoolHit = {
    indicator: best.indicator,
    type: best.via ? 'passive-dns' : best.type,
    source: best.source,
    confidence: best.confidence,
  };
  if (best.via) hit.via = best.via;
  return hit;
}

function normalName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/**
 * The one pool check the network analysis and hunt share: the threat-intel
 * engine first (its allow-list wins over everything, the built-in list included),
 * then the shipped pool list itself (so that it holds with intel off or its
 * built-in feed disabled), then the pools learned in this run from hosts seen
 * mining. Addresses in DNS answers for listed names become pool addresses
 * (passive DNS: nothing is ever resolved).
 */
export class PoolCheck {
  private readonly intel: IntelEngine | undefined;
  private readonly builtinPools: ReadonlySet<string>;
  /** Addresses answered for built-in pool names; the engine keeps its own for feed names. */
  private readonly builtinPdns = new Map<string, string>();
  /** Pool endpoints and names learned from mining seen in this analysis. */
  readonly learned: LearnedPools | undefined;
  /** Address → the TLS server name last seen for it (the name that led a miner there). */
  private readonly tlsNames = new Map<string, string>();
  /** The latest event time seen: learned pools expire against it, never against the clock. */
  private nowMs = 0;
  /** `host\npool` → the places it was seen (bounded: oldest pairs forgotten). */
  private readonly seen = new Map<string, string[]>();

  constructor(opts: PoolCheckOptions = {}) {
    this.intel = opts.intel;
    this.builtinPools = opts.builtinPools ?? new Set();
    this.learned = opts.learned === false ? undefined : new LearnedPools(opts.learned ?? {});
  }

  /** Event time moves on (callers pass each event's time; it never goes back). */
  at(tsMs: number): void {
    // Out-of-range times (damaged capture headers) would expire everything learned: ignored.
    if (Number.isFinite(tsMs) && tsMs <= 8.64e15 && tsMs > this.nowMs) this.nowMs = tsMs;
  }

  /** A TLS handshake to `ip` named `serverName`: remembered so that mining on that address learns the name. */
  observeTlsName(ip: string, serverName: string): void {
    if (this.learned === undefined) return;
    this.tlsNames.delete(ip);
    this.tlsNames.set(ip, normalName(serverName));
    if (this.tlsNames.size > TLS_NAMES_MAX) {
      const first = this.tlsNames.keys().next().value;
      if (first !== undefined) this.tlsNames.delete(first);
    }
  }

  /**
   * A host was seen speaking a mining protocol to `ip:port`: the endpoint,
   * and the name that led to it, become learned pools, so that the next
   * host that only resolves the name or connects to the address is caught.
   * Allow-listed addresses and names (shared CDN space, own ranges) are never learned.
   */
  observeMining(s: MiningSighting): void {
    this.at(s.tsMs);
    if (this.learned === undefined) return;
    if (this.intel?.isAllowedIp(s.ip)) return;
    let name = s.name ?? this.tlsNames.get(s.ip);
    if (name !== undefined) {
      name = normalName(name);
      if (this.intel?.matchDomain(name).allowed) name = undefined;
    }
    this.learned.learn(
      s.ip,
      s.port,
      name,
      { host: s.host, address: s.address, protocol: s.protocol, method: s.method },
      s.tsMs,
    );
  }

  /**
   * The one entry point for what every place saw: checks the indicator
   * (intel, the shipped list, learned pools) and, when it is a pool, notes
   * where this host met it. A pool reached by a name and by an address the
   * name answered with is one pool (passive DNS `via`).
   */
  observe(s: Sighting): PoolSighting | 'allowed' | undefined {
    let v: PoolVerdict;
    if (s.kind === 'domain') v = this.domain(s.indicator);
    else if (s.kind === 'endpoint') v = this.ip(s.indicator, s.port);
    else v = this.url(s.indicator, s.urlHost);
    if (v === undefined || v === 'allowed') return v;
    return { ...v, seenIn: this.seenAt(s.host, this.poolKey(v), s.where) };
  }

  /** The pool a hit stands for: the listed entry, or for an address a DNS answer gave, the entry its name falls under. */
  poolKey(h: PoolHit): string {
    if (h.via === undefined) return h.indicator;
    const name = this.domain(h.via);
    return name !== undefined && name !== 'allowed' ? name.indicator : h.via;
  }

  /** Notes that `host` met `pool` at `where`; returns every place so far. */
  seenAt(host: string, pool: string, where: string): string[] {
    const key = `${host}\n${pool}`;
    let places = this.seen.get(key);
    if (places === undefined) {
      if (this.seen.size >= SEEN_MAX) {
        const first = this.seen.keys().next().value;
        if (first !== undefined) this.seen.delete(first);
      }
      places = [];
      this.seen.set(key, places);
    }
    if (!places.includes(where) && places.length < SEEN_PLACES_MAX) places.push(where);
    return [...places];
  }

  /**
   * Pools learned elsewhere (the server's list, which any sensor feeds):
   * taken under the same rules as pools learned here, so an allow-listed
   * address or name (shared CDN space, the organisation's own) never
   * becomes a pool whoever reported it. Returns how many were taken.
   */
  seedLearned(entries: readonly SharedLearnedPool[]): number {
    if (this.learned === undefined) return 0;
    const intel = this.intel;
    const kept = entries.filter(
      (e) =>
        typeof e?.ip === 'string' &&
        isIP(e.ip) !== 0 &&
        !intel?.isAllowedIp(e.ip) &&
        !(typeof e.name === 'string' && intel?.matchDomain(normalName(e.name)).allowed),
    );
    return this.learned.seed(kept);
  }

  /** The learned pool a name is, if any (exact name). */
  learnedDomain(name: string): PoolHit | undefined {
    const from = this.learned?.name(normalName(name), this.nowMs);
    return from ? learnedHit(normalName(name), from) : undefined;
  }

  /** The learned pool an address (and port) is, if any. */
  learnedEndpoint(ip: string, port?: number): PoolHit | undefined {
    const from = this.learned?.endpoint(ip, port, this.nowMs);
    return from ? learnedHit(endpointKey(ip, port), from) : undefined;
  }

  get usesIntel(): boolean {
    return this.intel !== undefined;
  }

  domain(name: string): PoolVerdict {
    if (this.intel) {
      const v = fromVerdict(this.intel.matchDomain(name));
      if (v) return v;
    }
    const pool = this.builtinPoolOf(name);
    return pool
      ? {
          indicator: pool,
          type: 'domain',
          source: BUILTIN_POOLS_SOURCE,
          confidence: BUILTIN_POOLS_CONFIDENCE,
        }
      : this.learnedDomain(name);
  }

  /** An address (and port, when known) contacted. */
  ip(ip: string, port?: number): PoolVerdict {
    if (this.intel) {
      const v = fromVerdict(port !== undefined ? this.intel.matchIpPort(ip, port) : this.intel.matchIp(ip));
      if (v) return v;
    }
    const via = this.builtinPdns.get(ip);
    return via
      ? {
          indicator: ip,
          type: 'passive-dns',
          source: BUILTIN_POOLS_SOURCE,
          confidence: BUILTIN_POOLS_CONFIDENCE,
          via,
        }
      : this.learnedEndpoint(ip, port);
  }

  /** URL indicators plus whatever the URL's host matches. */
  url(url: string, host: string): PoolVerdict {
    if (this.intel) {
      const v = fromVerdict(this.intel.matchUrl(url));
      if (v) return v;
    }
    return /^[\d.:[\]]+$/.test(host) ? this.ip(host.replace(/^\[|\]$/g, '')) : this.domain(host);
  }

  /** The addresses a DNS answer gave for `name`; they count as pool addresses while `name` is listed. */
  observeDnsAnswer(name: string, ips: readonly string[], ttlSeconds: number): void {
    if (ips.length === 0) return;
    if (this.intel) {
      const v = this.intel.matchDomain(name);
      if (v.allowed) return;
      if (v.listed) {
        this.intel.observeDnsAnswer(name, ips, ttlSeconds);
        return;
      }
    }
    const pool = this.builtinPoolOf(name);
    if (!pool) return;
    for (const ip of ips) {
      // Shared CDN space answers for countless sites: it never becomes a pool address.
      if (this.intel?.isAllowedIp(ip)) continue;
      if (this.builtinPdns.size >= BUILTIN_PDNS_MAX) {
        const first = this.builtinPdns.keys().next().value;
        if (first !== undefined) this.builtinPdns.delete(first);
      }
      this.builtinPdns.set(ip, normalName(name));
    }
  }

  /** The built-in pool entry a name falls under (itself or a parent domain), if any. */
  builtinPoolOf(name: string): string | undefined {
    if (this.builtinPools.size === 0) return undefined;
    const n = normalName(name);
    // Walk up the labels: one set lookup per label instead of a scan of the list.
    for (let i = -1; ; ) {
      const d = n.slice(i + 1);
      if (this.builtinPools.has(d)) return d;
      i = n.indexOf('.', i + 1);
      if (i < 0) return undefined;
    }
  }
}

function learnedHit(indicator: string, from: LearnedFrom): PoolHit {
  return {
    indicator,
    type: 'learned',
    source: LEARNED_POOLS_SOURCE,
    confidence: LEARNED_POOLS_CONFIDENCE,
    learnedFrom: from,
  };
}

/** The evidence block of a pool finding. */
export function hitEvidence(h: PoolHit): Record<string, unknown> {
  const e: Record<string, unknown> = {
    indicator: h.indicator,
    type: h.type,
    source: h.source,
    confidence: h.confidence,
  };
  if (h.via) e['via'] = h.via;
  if (h.learnedFrom) e['learned_from'] = h.learnedFrom.host;
  return e;
}
