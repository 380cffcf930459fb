import { bytesKey, formatIPv4, formatIPv6, mappedV4, parseIPv4, parseIPv6 } from './ip.ts';
import type { IntelMatch } from './types.ts';
import { U32Map } from './u32-map.ts';

export interface PassiveDnsOptions {
  /** Answers with a shorter TTL are kept this long (a pool's short TTL must not let it slip away). */
  minTtlMs: number;
  /** Longer TTLs are cut to this, so a stale address does not stay listed for days. */
  maxTtlMs: number;
  /** Bound on remembered addresses; the entries closest to expiry go first. */
  maxEntries: number;
  confidence: number;
}

export const DEFAULT_PASSIVE_DNS: PassiveDnsOptions = {
  minTtlMs: 5 * 60_000,
  maxTtlMs: 24 * 3_600_000,
  maxEntries: 100_000,
  confidence: 60,
};

interface Entry {
  ip: string;
  domain: string;
  expires: number;
  firstSeen: number;
  lastSeen: number;
}

/**
 * Addresses seen in DNS answers for listed domains, kept as temporary
 * indicators until their (clamped) TTL runs out. This catches pool traffic by
 * address without resolving anything ourselves.
 */
export class PassiveDns {
  private readonly v4 = new U32Map();
  private readonly v6 = new Map<string, number>();
  private readonly entries: (Entry | undefined)[] = [];
  private readonly free: number[] = [];
  private live = 0;

  constructor(readonly options: PassiveDnsOptions = DEFAULT_PASSIVE_DNS) {}

  get size(): number {
    return this.live;
  }

  /** IPv6 entries held: lookups skip building a key when there are none. */
  get sizeV6(): number {
    return this.v6.size;
  }

  /** Records `ip` as an address of the listed `domain`; returns false when it is not an IP. */
  remember(domain: string, ip: string, ttlSeconds: number, now: number): boolean {
    if (this.options.maxEntries <= 0) return false;
    const ttl = Math.min(this.options.maxTtlMs, Math.max(this.options.minTtlMs, ttlSeconds * 1000));
    const expires = now + ttl;
    let n = parseIPv4(ip);
    let key6: string | undefined;
    let canonical: string;
    if (n >= 0) canonical = formatIPv4(n);
    else {
      const bytes = parseIPv6(ip);
      if (!bytes) return false;
      const m = mappedV4(bytes);
      if (m >= 0) {
        n = m;
        canonical = formatIPv4(m);
      } else {
        key6 = bytesKey(bytes);
        canonical = formatIPv6(bytes);
      }
    }
    const existing = key6 === undefined ? this.v4.get(n) : (this.v6.get(key6) ?? -1);
    if (existing >= 0) {
      const e = this.entries[existing]!;
      e.expires = Math.max(e.expires, expires);
      e.lastSeen = now;
      e.domain = domain;
      return true;
    }
    if (this.live >= this.options.maxEntries) this.evict(now);
    const entry: Entry = { ip: canonical, domain, expires, firstSeen: now, lastSeen: now };
    const slot = this.free.pop() ?? this.entries.length;
    this.entries[slot] = entry;
    if (key6 === undefined) this.v4.set(n, slot);
    else this.v6.set(key6, slot);
    this.live++;
    return true;
  }

  matchV4(ip: number, now: number): IntelMatch | undefined {
    if (this.live === 0) return undefined;
    const slot = this.v4.get(ip);
    return slot < 0 ? undefined : this.matchSlot(slot, now);
  }

  matchV6(bytes: readonly number[], now: number): IntelMatch | undefined {
    if (this.live === 0) return undefined;
    const slot = this.v6.get(bytesKey(bytes));
    return slot === undefined ? undefined : this.matchSlot(slot, now);
  }

  /** Drops expired entries; returns how many went. */
  sweep(now: number): number {
    let dropped = 0;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e && e.expires <= now) {
        this.drop(i);
        dropped++;
      }
    }
    return dropped;
  }

  snapshot(now: number): IntelMatch[] {
    const out: IntelMatch[] = [];
    for (let i = 0; i < this.entries.length; i++) {
      const m = this.entries[i] ? this.matchSlot(i, now) : undefined;
      if (m) out.push(m);
    }
    return out;
  }

  private matchSlot(slot: number, now: number): IntelMatch | undefined {
    const e = this.entries[slot]!;
    if (e.expires <= now) return undefined;
    return {
      indicator: e.ip,
      type: e.ip.includes(':') ? 'ipv6' : 'ipv4',
      source: 'passive-dns',
      confidence: this.options.confidence,
      firstSeen: new Date(e.firstSeen).toISOString(),
      lastSeen: new Date(e.lastSeen).toISOString(),
      expires: new Date(e.expires).toISOString(),
      via: e.domain,
    };
  }

  private evict(now: number): void {
    if (this.sweep(now) > 0) return;
    let oldest = -1;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e && (oldest < 0 || e.expires < this.entries[oldest]!.expires)) oldest = i;
    }
    if (oldest >= 0) this.drop(oldest);
  }

  private drop(slot: number): void {
    const e = this.entries[slot]!;
    const n = parseIPv4(e.ip);
    if (n >= 0) this.v4.delete(n);
    else {
      const bytes = parseIPv6(e.ip);
      if (bytes) this.v6.delete(bytesKey(bytes));
    }
    this.entries[slot] = undefined;
    this.free.push(slot);
    this.live--;
  }
}
