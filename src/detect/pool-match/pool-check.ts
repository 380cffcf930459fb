import type { IntelEngine, IntelMatch, IntelVerdict } from '../../intel/index.ts';

/** Source name of the built-in pool list (data/network/pool-domains.json) in evidence. */
export const BUILTIN_POOLS_SOURCE = 'deminer-network-pools';
/** Same weight as the shipped intel feed: both are curated lists of public pools. */
const BUILTIN_POOLS_CONFIDENCE = 80;
const BUILTIN_PDNS_MAX = 50_000;

/** What a pool finding says about the indicator that matched (evidence `intel`). */
export interface PoolHit {
  indicator: string;
  type: IntelMatch['type'] | 'passive-dns';
  source: string;
  confidence: number;
  /** Passive DNS: the listed name whose answer carried the address. */
  via?: string;
}

/** A listed value, a value the allow-list covers (never reported), or nothing known. */
export type PoolVerdict = PoolHit | 'allowed' | undefined;

export interface PoolCheckOptions {
  /** The threat-intel engine; left out with --no-intel. */
  intel?: IntelEngine | undefined;
  /** Pool domains the network analysis knows without intel (each matches its subdomains). */
  builtinPools?: ReadonlySet<string> | undefined;
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
 * then the built-in list of stratum pools the shipped feed lacks.
 * Addresses in DNS answers for listed names become pool addresses (passive
 * DNS: nothing is ever resolved).
 */
export class PoolCheck {
  private readonly intel: IntelEngine | undefined;
  private readonly builtinPools: ReadonlySet<string>;
  /** Addresses answered for built-in pool names; the engine keeps its own for feed names. */
  private readonly builtinPdns = new Map<string, string>();

  constructor(opts: PoolCheckOptions = {}) {
    this.intel = opts.intel;
    this.builtinPools = opts.builtinPools ?? new Set();
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
      : undefined;
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
      : undefined;
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

/** The evidence block of a pool finding. */
export function hitEvidence(h: PoolHit): Record<string, unknown> {
  const e: Record<string, unknown> = {
    indicator: h.indicator,
    type: h.type,
    source: h.source,
    confidence: h.confidence,
  };
  if (h.via) e['via'] = h.via;
  return e;
}
