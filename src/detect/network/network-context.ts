import ipaddr from 'ipaddr.js';
import { parse } from 'tldts';
import type { Finding } from '../../core/finding.ts';
import { addressOfPtrName, HostNames, hostOfAddress } from '../../core/host-identity.ts';
import type { NetEndpoint, NetEvent } from '../../core/net-event.ts';
import type { Severity } from '../../core/severity.ts';
import type { RuleDeclaration } from '../../core/stages.ts';
import type { PoolHit } from '../pool-match/pool-check.ts';
import { PoolCheck } from '../pool-match/pool-check.ts';
import type { NetworkLists } from './lists.ts';
import { LruMap, RecentCache } from './lru-map.ts';
import { nameRandomness, RANDOM_NAME_THRESHOLD } from './name-randomness.ts';
import type { NetworkDetectorOptions, NetworkLimits } from './options.ts';
import { DEFAULT_LIMITS } from './options.ts';
import type { Destination, ObservationDetails, PendingFinding } from './pending-finding.ts';
import { buildFinding, PendingFindings } from './pending-finding.ts';

/** A pool verdict for a name: listed, allowed (never reported, never scored) or nothing known. */
export type NameVerdict = PoolHit | 'allowed' | null;

/** Where names outside the public suffix list (tunnels to made-up TLDs) are grouped. */
export const NO_PUBLIC_SUFFIX = '(no public suffix)';

/**
 * What the rules want to know about a DNS, TLS or HTTP name, worked out once
 * per name (busy resolvers repeat the same few) and only as far as asked.
 */
export class NameFacts {
  readonly name: string;
  /** The pool check's verdict; the allow-list silences the name for every rule. */
  readonly pool: NameVerdict;
  /** Not listed, not allowed, and not a reverse lookup or local name: a name whose randomness means something. */
  readonly judged: boolean;
  readonly #scorer: (name: string) => number;
  #score: number | undefined;
  #registeredDomain: string | undefined;

  constructor(name: string, pool: NameVerdict, scorer: (name: string) => number) {
    this.name = name;
    this.pool = pool;
    this.judged =
      pool === null && !(name.endsWith('.arpa') || name.endsWith('.local') || !name.includes('.'));
    this.#scorer = scorer;
  }

  /** How random the name looks, 0..1. */
  get score(): number {
    this.#score ??= this.#scorer(this.name);
    return this.#score;
  }

  /** The registered domain the name falls under, the unit random-looking names are grouped by. */
  get registeredDomain(): string {
    if (this.#registeredDomain === undefined) {
      const info = parse(this.name);
      this.#registeredDomain = info.isIcann && info.domain ? info.domain : NO_PUBLIC_SUFFIX;
    }
    return this.#registeredDomain;
  }
}

const INTERNAL_RANGES = new Set(['private', 'loopback', 'linkLocal', 'uniqueLocal', 'carrierGradeNat']);

/** RFC 1918, loopback, link-local, ULA and CGNAT space: the organisation's side of a connection. */
function isInternalAddress(ip: string): boolean {
  try {
    return INTERNAL_RANGES.has(ipaddr.process(ip).range());
  } catch {
    return false;
  }
}

/**
 * The same answer for plain dotted-decimal IPv4, the form nearly every event
 * carries, without a parser or a table; undefined for any other form.
 */
function isInternalIpv4(ip: string): boolean | undefined {
  let part = 0;
  let value = 0;
  let digits = 0;
  let first = 0;
  let second = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255) return undefined;
      if (part === 0) first = value;
      else if (part === 1) second = value;
      part++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // Leading zeros are octal to some parsers: left to ipaddr.
      if (digits === 1 && value === 0) return undefined;
      value = value * 10 + (c - 48);
      digits++;
    } else return undefined;
  }
  if (part !== 4) return undefined;
  return (
    first === 10 ||
    first === 127 ||
    (first === 172 && second >= 16 && second <= 31) ||
    (first === 192 && second === 168) ||
    (first === 169 && second === 254) ||
    (first === 100 && second >= 64 && second <= 127)
  );
}

/**
 * What the network rules of one stream share: what the stream taught so far
 * (passive DNS, names of hosts), the pool check with its per-name verdicts,
 * name-randomness scores, and the pending findings the rules add to. Every
 * table is bounded; time comes from the events only.
 */
export class NetworkContext {
  readonly lists: NetworkLists;
  readonly pools: PoolCheck;
  readonly hostNames: HostNames;
  readonly randomThreshold: number;
  readonly limits: NetworkLimits;
  readonly findings: PendingFindings;
  readonly #score: (name: string) => number;
  /** Address → the name a DNS answer gave it, least recently answered first out. */
  readonly #passiveDns: LruMap<string, string>;
  readonly #names: RecentCache<string, NameFacts>;
  readonly #internal: RecentCache<string, boolean>;
  // Several rules read the same event and name: the last answers are kept so that each is worked out once.
  #lastName: NameFacts | undefined;
  #flowCounts: boolean | undefined;
  #tlsNames: string[] | undefined;

  constructor(opts: NetworkDetectorOptions) {
    this.lists = opts.lists;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.pools = opts.pools ?? new PoolCheck({ intel: opts.intel, builtinPools: opts.lists.poolDomains });
    this.hostNames = opts.hostNames ?? new HostNames();
    this.randomThreshold = opts.randomThreshold ?? RANDOM_NAME_THRESHOLD;
    this.#score = opts.scoreName ?? nameRandomness;
    this.#passiveDns = new LruMap(opts.maxPassiveDns ?? 100_000);
    this.#names = new RecentCache(this.limits.names);
    this.#internal = new RecentCache(this.limits.addressRanges);
    this.findings = new PendingFindings({
      max: this.limits.pendingFindings,
      build: (p) => buildFinding(p, this.hostOf(p.address)),
      destination: (ep) => this.destination(ep),
    });
  }

  /**
   * A new event, before any rule reads it; learns what it teaches: DNS
   * answers (passive DNS for the pool check and for naming destinations; PTR
   * answers name hosts) and DHCP clients naming themselves.
   */
  begin(e: NetEvent): void {
    this.#flowCounts = undefined;
    this.#tlsNames = undefined;
    if (e.kind === 'dns') {
      const d = e.dns;
      if (d?.response && d.answers.length > 0) this.learnAnswers(d);
    } else if (e.kind === 'dhcp' && e.dhcp) this.hostNames.learn(e.dhcp.ip, e.dhcp.hostname, 'dhcp');
  }

  private learnAnswers(d: NonNullable<NetEvent['dns']>): void {
    const q = d.questions[0]?.name;
    // The addresses answered for a listed name (the question or any name in its CNAME chain) become pool addresses.
    const ips: string[] = [];
    const names: string[] = q ? [q] : [];
    let ttl = Number.POSITIVE_INFINITY;
    for (const a of d.answers) {
      if (a.type === 'A' || a.type === 'AAAA') {
        ips.push(a.data);
        if (a.ttl !== undefined) ttl = Math.min(ttl, a.ttl);
      } else if (a.type === 'CNAME' && names.length < 8) names.push(a.data);
      else if (a.type === 'PTR') {
        const ip = addressOfPtrName(a.name) ?? (q ? addressOfPtrName(q) : undefined);
        if (ip !== undefined) this.hostNames.learn(ip, a.data, 'ptr');
      }
    }
    if (ips.length === 0) return;
    for (const n of names) this.pools.observeDnsAnswer(n, ips, Number.isFinite(ttl) ? ttl : 0);
    for (const a of d.answers)
      if (a.type === 'A' || a.type === 'AAAA') this.#passiveDns.set(a.data, q ?? a.name);
  }

  /** The name a DNS answer in the stream gave this address (passive DNS; nothing is resolved). */
  domainOf(ip: string): string | undefined {
    return this.#passiveDns.peek(ip);
  }

  destination(ep: NetEndpoint): Destination {
    const domain = this.#passiveDns.peek(ep.ip);
    return domain ? { ...ep, domain } : { ...ep };
  }

  /** The host an address belongs to, as findings name it. */
  hostOf(address: string): string {
    return hostOfAddress(address, this.hostNames);
  }

  isInternal(ip: string): boolean {
    const fast = isInternalIpv4(ip);
    if (fast !== undefined) return fast;
    let v = this.#internal.get(ip);
    if (v === undefined) {
      v = isInternalAddress(ip);
      this.#internal.set(ip, v);
    }
    return v;
  }

  /**
   * A flow that is ours to judge: both ends known, and not the internet
   * probing us (scans of our pool ports are not our miners).
   */
  isOutboundOrInternal(e: NetEvent): boolean {
    this.#flowCounts ??=
      e.src !== undefined &&
      e.dst !== undefined &&
      !(this.isInternal(e.dst.ip) && !this.isInternal(e.src.ip));
    return this.#flowCounts;
  }

  /** What is known about a name (a DNS question, TLS name or HTTP host). */
  name(name: string): NameFacts {
    const last = this.#lastName;
    if (last !== undefined && last.name === name) return last;
    let facts = this.#names.get(name);
    if (facts === undefined) {
      facts = new NameFacts(name, this.pools.domain(name) ?? null, this.#score);
      this.#names.set(name, facts);
    }
    this.#lastName = facts;
    return facts;
  }

  /** The names a TLS handshake shows (server name, certificate CN and SANs), wildcards as their parent. */
  tlsNames(e: NetEvent): readonly string[] {
    if (this.#tlsNames !== undefined) return this.#tlsNames;
    const out: string[] = [];
    const t = e.tls;
    if (t) {
      const names = new Set<string>();
      if (t.serverName) names.add(t.serverName);
      for (const n of t.certSubjectCn ?? []) names.add(n);
      for (const n of t.certSans ?? []) names.add(n);
      for (const n of names) if (!n.startsWith('*.') || n.length > 2) out.push(n.replace(/^\*\./, ''));
    }
    this.#tlsNames = out;
    return out;
  }

  /** One observation of `rule` firing on `subject` for the host at `address`: see `PendingFindings.record`. */
  record(
    e: NetEvent,
    rule: RuleDeclaration,
    severity: Severity,
    address: string,
    subject: string[],
    message: () => string,
    details?: ObservationDetails,
  ): PendingFinding {
    return this.findings.record(e, rule, severity, address, subject, message, details);
  }

  drain(): Finding[] {
    return this.findings.drain();
  }

  /** Findings pushed out of the bounded pending table by the last event, if any. */
  takeEarly(): Finding[] | undefined {
    return this.findings.takeEarly();
  }

  stats(): Record<string, number> {
    return {
      pending_findings: this.findings.size,
      pending_findings_evicted: this.findings.evicted,
      findings_handed_out_early: this.findings.handedOutEarly,
      passive_dns_entries: this.#passiveDns.size,
      passive_dns_evicted: this.#passiveDns.evicted,
      host_names: this.hostNames.size,
      host_names_evicted: this.hostNames.evicted,
      names: this.#names.size,
      names_evicted: this.#names.evicted,
      address_ranges_evicted: this.#internal.evicted,
    };
  }
}
