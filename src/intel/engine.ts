import { domainQuery, normalizeUrl, parseIpPort } from './classify.ts';
import type { IndicatorIndex } from './indicator-index.ts';
import { mappedV4, parseIPv4, parseIPv6, parseIPv6Words, wordsToBytes } from './ip.ts';
import type { PassiveDns } from './passive-dns.ts';
import type { IndicatorType, IntelMatch, IntelVerdict } from './types.ts';
import { INDICATOR_TYPES, NO_MATCH } from './types.ts';

export interface FeedHealth {
  name: string;
  status: 'ok' | 'not-modified' | 'failed' | 'empty' | 'never-fetched' | 'stale' | 'builtin';
  indicators: number;
  lastSuccess?: string;
  lastAttempt?: string;
  warning?: string;
}

export interface IntelStats {
  indicators: number;
  allowEntries: number;
  passiveDns: number;
  byType: Record<IndicatorType, number>;
  bySource: Record<string, number>;
  feeds: FeedHealth[];
}

export interface DnsObservation {
  /** Addresses that became temporary indicators. */
  added: number;
  /** Addresses skipped because the allow-list covers them (shared CDNs, own ranges). */
  allowed: number;
}

/**
 * Read-only view over the loaded feeds and allow-list, plus the passive-DNS
 * memory. Misses allocate nothing; the allow-list wins over every feed.
 */
export class IntelEngine {
  constructor(
    private readonly feeds: IndicatorIndex,
    private readonly allow: IndicatorIndex,
    readonly passiveDnsStore: PassiveDns,
    private readonly now: () => number,
    readonly health: readonly FeedHealth[] = [],
  ) {}

  matchDomain(name: string): IntelVerdict {
    const n = this.feeds.domainHeads(name, this.heads);
    const allowHit = this.allow.hasDomain(name);
    if (n === 0 && !allowHit) return NO_MATCH;
    if (!allowHit) return this.chainVerdict(this.heads, n);
    return this.verdict(
      n > 0 ? this.domainMatches(this.feeds, name) : [],
      allowHit ? this.domainMatches(this.allow, name) : [],
    );
  }

  /** True when the domain is listed and not allowed; the cheapest question. */
  isListedDomain(name: string): boolean {
    return this.feeds.hasDomain(name) && !this.allow.hasDomain(name) && this.matchDomain(name).listed;
  }

  matchIp(ip: string): IntelVerdict {
    const n = parseIPv4(ip);
    if (n >= 0) return this.matchV4(n);
    const w = this.words;
    if (!parseIPv6Words(ip, w)) return NO_MATCH;
    if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return this.matchV4(w[3]!);
    const p =
      this.passiveDnsStore.sizeV6 > 0 ? this.passiveDnsStore.matchV6(wordsToBytes(w), this.now()) : undefined;
    const allowHit = this.allow.hasV6Words(w);
    const k = this.feeds.v6Heads(w, this.heads);
    if (!p && !allowHit) return k === 0 ? NO_MATCH : this.chainVerdict(this.heads, k);
    const found: IntelMatch[] = [];
    for (let i = 0; i < k; i++) this.collect(this.feeds, this.heads[i]!, found);
    if (p) found.push(p);
    const allowed: IntelMatch[] = [];
    if (allowHit) this.allow.eachV6Words(w, (head) => this.collect(this.allow, head, allowed));
    return this.verdict(found, allowed);
  }

  /** IPv4 as an unsigned 32-bit number, for callers that already hold one. */
  matchV4(ip: number): IntelVerdict {
    const p = this.passiveDnsStore.size > 0 ? this.passiveDnsStore.matchV4(ip, this.now()) : undefined;
    const allowHit = this.allow.hasV4(ip);
    const cover = this.feeds.v4Cover(ip);
    if (cover === -1 && !p && !allowHit) return NO_MATCH;
    const k = this.feeds.v4Heads(cover, this.heads);
    // One range lookup and one cached verdict answer the common case without allocating.
    if (!p && !allowHit) return this.chainVerdict(this.heads, k);
    const found: IntelMatch[] = [];
    for (let i = 0; i < k; i++) this.collect(this.feeds, this.heads[i]!, found);
    if (p) found.push(p);
    const allowed: IntelMatch[] = [];
    if (allowHit) this.allow.eachV4(ip, (head) => this.collect(this.allow, head, allowed));
    return this.verdict(found, allowed);
  }

  /** Address matches plus IP:port indicators for exactly this port. */
  matchIpPort(ip: string, port: number): IntelVerdict {
    const base = this.matchIp(ip);
    let head = -1;
    const n = parseIPv4(ip);
    let v4 = n;
    let bytes: number[] | undefined;
    if (n < 0) {
      bytes = parseIPv6(ip);
      if (bytes) v4 = mappedV4(bytes);
    }
    if (v4 >= 0) head = this.feeds.ipPortHeadV4(v4);
    else if (bytes) head = this.feeds.ipPortHeadV6(bytes, port);
    if (head < 0) return base;
    const found: IntelMatch[] = [];
    const r = this.feeds.records;
    for (let id = head; id >= 0; id = r.next.get(id))
      if (r.portOf(id) === port && r.isLive(id, this.now())) found.push(r.toMatch(id));
    if (found.length === 0) return base;
    return this.verdict([...found, ...base.matches], base.allowedBy ?? []);
  }

  /** Exact URL indicators plus whatever its host (and port) match. */
  matchUrl(url: string): IntelVerdict {
    const norm = normalizeUrl(url);
    if (!norm.ok) return NO_MATCH;
    const u = new URL(norm.value);
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    const isIp = parseIPv4(host) >= 0 || parseIPv6(host) !== undefined;
    const port = u.port ? Number(u.port) : DEFAULT_PORTS[u.protocol];
    const hostVerdict = isIp
      ? port !== undefined
        ? this.matchIpPort(host, port)
        : this.matchIp(host)
      : this.matchDomain(host);
    const head = this.feeds.urlHead(norm.value);
    const allowHead = this.allow.urlHead(norm.value);
    if (head < 0 && allowHead < 0) return hostVerdict;
    const found: IntelMatch[] = [];
    const allowed: IntelMatch[] = [];
    if (head >= 0) this.collect(this.feeds, head, found);
    if (allowHead >= 0) this.collect(this.allow, allowHead, allowed);
    return this.verdict([...found, ...hostVerdict.matches], [...allowed, ...(hostVerdict.allowedBy ?? [])]);
  }

  /**
   * Works out what `value` is (URL, IP, IP:port, domain) and matches it.
   * `kind` is undefined when it is none of them.
   */
  lookup(
    value: string,
  ): IntelVerdict & { kind: 'domain' | 'ip' | 'ip-port' | 'url' | undefined; problem?: string } {
    const v = value.trim();
    if (v.includes('://')) return { ...this.matchUrl(v), kind: 'url' };
    if (parseIPv4(v) >= 0 || parseIPv6(v)) return { ...this.matchIp(v), kind: 'ip' };
    const ipPort = parseIpPort(v);
    if (ipPort) return { ...this.matchIpPort(ipPort.ip, ipPort.port), kind: 'ip-port' };
    // Validated and mapped (UTS #46) as feeds are, so `ｍｉｎｅｘｍｒ．ｃｏｍ` finds minexmr.com and `..` finds nothing.
    const d = domainQuery(v);
    if (!d.ok) return { ...NO_MATCH, kind: undefined, problem: d.message };
    return { ...this.matchDomain(d.value), kind: 'domain' };
  }

  /**
   * Passive DNS: when `name` is listed, the addresses in its answer become
   * temporary indicators for `ttl` seconds (clamped). Allow-listed
   * addresses (shared CDNs, own ranges) are never added.
   */
  observeDnsAnswer(name: string, ips: readonly string[], ttl: number): DnsObservation {
    const out: DnsObservation = { added: 0, allowed: 0 };
    if (ips.length === 0 || !this.isListedDomain(name)) return out;
    const domain = name.toLowerCase().replace(/\.$/, '');
    const now = this.now();
    for (const ip of ips) {
      if (this.isAllowedIp(ip)) {
        out.allowed++;
        continue;
      }
      if (this.passiveDnsStore.remember(domain, ip, ttl, now)) out.added++;
    }
    return out;
  }

  passiveDnsEntries(): IntelMatch[] {
    return this.passiveDnsStore.snapshot(this.now());
  }

  isAllowedIp(ip: string): boolean {
    const n = parseIPv4(ip);
    if (n >= 0) return this.allow.hasV4(n);
    const w = this.words;
    if (!parseIPv6Words(ip, w)) return false;
    if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return this.allow.hasV4(w[3]!);
    return this.allow.hasV6Words(w);
  }

  /** True when the allow-list covers this indicator value (exporters leave those out). */
  isAllowedIndicator(type: IndicatorType, value: string): boolean {
    switch (type) {
      case 'domain':
        return this.allow.hasDomain(value);
      case 'ipv4':
      case 'ipv6':
      case 'ipv4-cidr':
      case 'ipv6-cidr':
        return this.isAllowedIp(value.split('/')[0]!);
      case 'ip-port':
        return this.isAllowedIp(value.slice(0, value.lastIndexOf(':')).replace(/^\[|\]$/g, ''));
      case 'url':
        return this.matchUrl(value).allowed;
    }
  }

  /** Every live feed indicator, in load order. */
  *indicators(): Generator<ReturnType<IndicatorIndex['records']['toIndicator']>> {
    const r = this.feeds.records;
    const now = this.now();
    for (let id = 0; id < r.size; id++) if (r.isLive(id, now)) yield r.toIndicator(id);
  }

  *allowEntries(): Generator<ReturnType<IndicatorIndex['records']['toIndicator']>> {
    const r = this.allow.records;
    for (let id = 0; id < r.size; id++) yield r.toIndicator(id);
  }

  stats(): IntelStats {
    const bySource: Record<string, number> = {};
    const r = this.feeds.records;
    for (let id = 0; id < r.size; id++) {
      const s = r.sourceOf(id);
      bySource[s] = (bySource[s] ?? 0) + 1;
    }
    const byType = Object.fromEntries(INDICATOR_TYPES.map((t) => [t, this.feeds.counts[t]])) as Record<
      IndicatorType,
      number
    >;
    return {
      indicators: r.size,
      allowEntries: this.allow.records.size,
      passiveDns: this.passiveDnsStore.size,
      byType,
      bySource,
      feeds: [...this.health],
    };
  }

  private readonly heads = new Int32Array(128);
  private readonly words = new Uint32Array(4);
  /**
   * Feed verdicts without an allow entry, cached by the most specific chain
   * head: the other matches of a name or address are that key's own listed
   * parents (shorter suffixes, enclosing prefixes), so the head identifies
   * the whole verdict. Chains with an expiry are rebuilt every time.
   */
  private verdictIndex = new Int32Array(0);
  private readonly cachedVerdicts: IntelVerdict[] = [];

  private chainExpires(head: number): boolean {
    const r = this.feeds.records;
    for (let id = head; id >= 0; id = r.next.get(id)) if (r.expiresAt(id) !== 0) return true;
    return false;
  }

  /** The verdict for chain heads `heads[0..n)`, most specific first, and no allow entry. */
  private chainVerdict(heads: Int32Array, n: number): IntelVerdict {
    if (n === 0) return NO_MATCH;
    const key = heads[0]!;
    const slot = key < this.verdictIndex.length ? this.verdictIndex[key]! : 0;
    if (slot > 0) return this.cachedVerdicts[slot - 1]!;
    const found: IntelMatch[] = [];
    let expires = false;
    for (let i = 0; i < n; i++) {
      expires ||= this.chainExpires(heads[i]!);
      this.collect(this.feeds, heads[i]!, found);
    }
    if (expires || found.length === 0) return this.verdict(found, []);
    const v: IntelVerdict = Object.freeze({ listed: true, allowed: false, matches: Object.freeze(found) });
    if (key >= this.verdictIndex.length) {
      const grown = new Int32Array(Math.max(key + 1, this.feeds.records.size));
      grown.set(this.verdictIndex);
      this.verdictIndex = grown;
    }
    this.cachedVerdicts.push(v);
    this.verdictIndex[key] = this.cachedVerdicts.length;
    return v;
  }

  private domainMatches(index: IndicatorIndex, name: string): IntelMatch[] {
    const out: IntelMatch[] = [];
    const n = index.domainHeads(name, this.heads);
    for (let i = 0; i < n; i++) this.collect(index, this.heads[i]!, out);
    return out;
  }

  private collect(index: IndicatorIndex, head: number, out: IntelMatch[]): void {
    const r = index.records;
    // Most indicators never expire: read the clock only for those that do.
    for (let id = head; id >= 0; id = r.next.get(id)) {
      const e = r.expiresAt(id);
      if (e === 0 || e > this.now()) out.push(r.toMatch(id));
    }
  }

  private verdict(matches: IntelMatch[], allowedBy: readonly IntelMatch[]): IntelVerdict {
    if (matches.length === 0 && allowedBy.length === 0) return NO_MATCH;
    const allowed = allowedBy.length > 0;
    const v: IntelVerdict = { listed: matches.length > 0 && !allowed, allowed, matches };
    if (allowed) v.allowedBy = allowedBy;
    return v;
  }
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443 };
