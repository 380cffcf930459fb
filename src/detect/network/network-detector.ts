import ipaddr from 'ipaddr.js';
import { parse } from 'tldts';
import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import type { Detector } from '../../core/plugin.ts';
import type { Severity } from '../../core/severity.ts';
import { maxSeverity } from '../../core/severity.ts';
import type { IntelEngine } from '../intel/index.ts';
import type { PoolHit, PoolVerdict } from '../intel-match/pool-check.ts';
import { hitEvidence, PoolCheck } from '../intel-match/pool-check.ts';
import { DEFAULT_DGA_HOST_RULE, type DgaHostRule, dgaHostMinimum } from './dga-host.ts';
import { NXDOMAIN } from './dns-message.ts';
import type { NetworkLists } from './lists.ts';
import { nameRandomness, RANDOM_NAME_THRESHOLD } from './name-randomness.ts';
import type { NetEndpoint, NetEvent } from './net-event.ts';

export interface NetworkDetectorOptions {
  lists: NetworkLists;
  /**
   * Threat intelligence for pool names and addresses (the caller builds it:
   * `loadDefaultIntel()`); without it only the built-in floor of pool
   * domains in `lists` is checked.
   */
  intel?: IntelEngine | undefined;
  /** New outbound connections from one source within `rateWindowMs` above which it is reported. */
  rateLimit?: number;
  rateWindowMs?: number;
  randomThreshold?: number;
  /** Scores names 0..1; defaults to the built-in randomness measure. */
  scoreName?: (name: string) => number;
  /** Passive DNS entries kept (IP → name), oldest dropped first. */
  maxPassiveDns?: number;
  /**
   * When a host is reported for resolving many DGA-like registered domains
   * within `dgaHostWindowMs` (default one hour): see `dga-host.ts`.
   */
  dgaHostRule?: Partial<DgaHostRule>;
  dgaHostWindowMs?: number;
}

const MINING: string[] = ['T1496'];
const RULES = {
  mining: { id: 'deminer.network.mining_protocol', name: 'Mining protocol on the wire', ruleset: 'builtin' },
  poolPort: { id: 'deminer.network.pool_port', name: 'Connection to a mining-pool port', ruleset: 'builtin' },
  poolDomain: {
    id: 'deminer.network.pool_domain',
    name: 'Mining pool name looked up or contacted',
    ruleset: 'builtin',
  },
  poolAddress: {
    id: 'deminer.network.pool_address',
    name: 'Connection to a listed mining-pool address',
    ruleset: 'builtin',
  },
  minerAgent: {
    id: 'deminer.network.miner_user_agent',
    name: 'Miner software identified by its agent',
    ruleset: 'builtin',
  },
  randomDns: {
    id: 'deminer.network.random_dns',
    name: 'Random-looking DNS name (DGA-like)',
    ruleset: 'builtin',
  },
  dgaHost: {
    id: 'deminer.network.dga_host',
    name: 'Host resolving many random-looking domains (DGA at work)',
    ruleset: 'builtin',
  },
  randomTls: {
    id: 'deminer.network.random_tls_name',
    name: 'Random-looking TLS server name',
    ruleset: 'builtin',
  },
  rate: {
    id: 'deminer.network.connection_rate',
    name: 'Burst of new outbound connections',
    ruleset: 'builtin',
  },
  p2p: {
    id: 'deminer.network.coin_p2p',
    name: 'Coin peer-to-peer traffic (node syncing)',
    ruleset: 'builtin',
  },
  idsAlert: { id: 'deminer.network.ids_mining_alert', name: 'IDS alert about mining', ruleset: 'builtin' },
} as const;

type Rule = (typeof RULES)[keyof typeof RULES];

interface Agg {
  rule: Rule;
  severity: Severity;
  techniques: string[];
  host: string;
  subject: string[];
  message: string;
  tsMs: number;
  source?: NetEndpoint;
  destination?: NetEndpoint & { domain?: string };
  dnsName?: string;
  tlsName?: string;
  evidence: Record<string, unknown>;
  file: string;
  /** Frame numbers (captures) or line numbers (logs) of the first observations. */
  frames: number[];
  unit: 'frames' | 'lines';
  count: number;
  emitted: boolean;
}

/** What one host resolved within the DGA window: name or registered domain → last seen, oldest first. */
interface DnsWindow {
  names: Map<string, number>;
  dga: Map<string, number>;
  /** Registered domains whose lookups came back NXDOMAIN. */
  nx: Map<string, number>;
  /** Domains in both `dga` and `nx`. */
  dgaNx: number;
  /**
   * More than MAX_NAMES_PER_HOST names within one window: a resolver or proxy
   * asking for many clients, where one host's count means nothing; not judged.
   */
  busy: boolean;
}

/** Bounds of the per-host DNS windows of the dga_host rule. */
const MAX_NAMES_PER_HOST = 10_000;
const MAX_NAMES_HELD = 1_000_000;
const MAX_DNS_HOSTS = 100_000;

const MAX_FRAMES = 20;
const INTERNAL_RANGES = new Set(['private', 'loopback', 'linkLocal', 'uniqueLocal', 'carrierGradeNat']);
const internalCache = new Map<string, boolean>();

/** RFC 1918, loopback, link-local, ULA and CGNAT space: the organisation's side of a connection. */
export function isInternal(ip: string): boolean {
  let v = internalCache.get(ip);
  if (v === undefined) {
    try {
      v = INTERNAL_RANGES.has(ipaddr.process(ip).range());
    } catch {
      v = false;
    }
    if (internalCache.size > 100_000) internalCache.clear();
    internalCache.set(ip, v);
  }
  return v;
}
const MINING_IDS_RE =
  /coin ?miner|crypto ?(?:currency )?min|stratum|xmrig|monero|mining pool|coinhive|cryptonight/i;
const MINING_CLIENT_METHODS = new Set([
  'mining.subscribe',
  'mining.authorize',
  'mining.submit',
  'login',
  'submit',
  'keepalived',
  'eth_submitLogin',
  'eth_login',
  'eth_submitWork',
  'eth_getWork',
]);

/**
 * The network detectors over `NetEvent`s: mining protocols on any port,
 * pool ports, pool names (DNS, TLS, HTTP), miner agents, random-looking
 * names, connection bursts and coin P2P. Findings are aggregated per
 * fingerprint (frames collected as evidence) and handed out by `drain()`.
 * Pure: time comes from the events, never the clock.
 */
export class NetworkDetector implements Detector<NetEvent> {
  readonly id = 'network';
  readonly description = 'Mining pool traffic, DGA-like names and connection bursts in network observations';
  private readonly lists: NetworkLists;
  private readonly rateLimit: number;
  private readonly rateWindowMs: number;
  private readonly threshold: number;
  private readonly score: (name: string) => number;
  private readonly maxPdns: number;
  private readonly aggs = new Map<string, Agg>();
  private readonly pdns = new Map<string, string>();
  private readonly rate = new Map<string, number[]>();
  private readonly scored = new Map<string, number>();
  private readonly dgaHostRule: DgaHostRule;
  private readonly dgaHostWindowMs: number;
  /** Per host, within the window: every name checked and the DGA-like registered domains (→ last seen, oldest first). */
  private readonly dnsSeen = new Map<string, DnsWindow>();
  /** Names held in all `dnsSeen` windows together. */
  private dnsNamesHeld = 0;
  private readonly pools: PoolCheck;
  /** Pool verdict per name (null for none): busy resolvers repeat the same few names. */
  private readonly nameVerdicts = new Map<string, PoolHit | 'allowed' | null>();

  constructor(opts: NetworkDetectorOptions) {
    this.lists = opts.lists;
    this.rateLimit = opts.rateLimit ?? 50;
    this.rateWindowMs = opts.rateWindowMs ?? 60_000;
    this.threshold = opts.randomThreshold ?? RANDOM_NAME_THRESHOLD;
    this.score = opts.scoreName ?? nameRandomness;
    this.maxPdns = opts.maxPassiveDns ?? 100_000;
    this.dgaHostRule = { ...DEFAULT_DGA_HOST_RULE, ...opts.dgaHostRule };
    this.dgaHostWindowMs = opts.dgaHostWindowMs ?? 3_600_000;
    this.pools = new PoolCheck({ intel: opts.intel, floor: opts.lists.poolDomains });
  }

  /** Names learned from DNS answers for an IP (passive DNS; nothing is resolved). */
  domainOf(ip: string): string | undefined {
    return this.pdns.get(ip);
  }

  detect(e: NetEvent): Finding[] {
    this.observe(e);
    return [];
  }

  finalize(): Finding[] {
    return this.drain();
  }

  /** Findings not handed out yet (a live capture calls this periodically). */
  drain(): Finding[] {
    const out: Finding[] = [];
    for (const a of this.aggs.values()) {
      if (a.emitted) continue;
      a.emitted = true;
      out.push(this.toFinding(a));
    }
    return out;
  }

  observe(e: NetEvent): void {
    switch (e.kind) {
      case 'flow':
        this.flow(e);
        return;
      case 'dns':
        this.dns(e);
        return;
      case 'tls':
        this.tls(e);
        return;
      case 'mining':
        this.mining(e);
        return;
      case 'http':
        this.http(e);
        return;
      case 'p2p':
        this.p2p(e);
        return;
      case 'alert':
        this.alert(e);
        return;
    }
  }

  private dest(ep: NetEndpoint | undefined): (NetEndpoint & { domain?: string }) | undefined {
    if (!ep) return undefined;
    const domain = this.pdns.get(ep.ip);
    return domain ? { ...ep, domain } : { ...ep };
  }

  private hit(
    e: NetEvent,
    rule: Rule,
    severity: Severity,
    techniques: string[],
    host: string,
    subject: string[],
    message: () => string,
    extra: {
      destination?: NetEndpoint;
      dnsName?: string;
      tlsName?: string;
      evidence?: Record<string, unknown>;
    } = {},
  ): Agg {
    const key = `${rule.id}\0${host}\0${subject.join('\0')}`;
    let a = this.aggs.get(key);
    if (!a) {
      a = {
        rule,
        severity,
        techniques,
        host,
        subject,
        message: message(),
        tsMs: e.tsMs,
        file: e.file,
        frames: [],
        unit: e.frame !== undefined ? 'frames' : 'lines',
        count: 0,
        emitted: false,
        evidence: { ...extra.evidence },
      };
      if (e.src) a.source = { ...e.src };
      const d = this.dest(extra.destination);
      if (d) a.destination = d;
      if (extra.dnsName) a.dnsName = extra.dnsName;
      if (extra.tlsName) a.tlsName = extra.tlsName;
      this.aggs.set(key, a);
    } else {
      a.severity = maxSeverity(a.severity, severity);
      if (extra.evidence)
        for (const [k, v] of Object.entries(extra.evidence)) if (!(k in a.evidence)) a.evidence[k] = v;
    }
    a.count++;
    const at = e.frame ?? e.line;
    if (at !== undefined && a.frames.length < MAX_FRAMES && e.file === a.file) a.frames.push(at);
    return a;
  }

  private flow(e: NetEvent): void {
    if (!e.src || !e.dst) return;
    // Internet hosts probing us on pool ports are scans, not our miners: only outbound and internal traffic counts.
    if (isInternal(e.dst.ip) && !isInternal(e.src.ip)) return;
    const port = e.dst.port;
    if (port !== undefined && e.transport !== 'udp' && this.lists.poolPorts.has(port)) {
      const dst = e.dst;
      // One finding per host and port: a miner cycling through a pool's addresses is one story.
      const a = this.hit(
        e,
        RULES.poolPort,
        'medium',
        ['T1496', 'T1571'],
        e.src.ip,
        [String(port)],
        () =>
          `${e.src!.ip} connected to ${this.pdns.get(dst.ip) ?? dst.ip}:${port}, a port mining pools use; find the process holding the connection (ss -tnp) and check whether it speaks stratum.`,
        { destination: dst },
      );
      const dests = (a.evidence['destinations'] as string[] | undefined) ?? [];
      const d = `${dst.ip}:${port}`;
      if (dests.length < 20 && !dests.includes(d)) dests.push(d);
      a.evidence['destinations'] = dests;
    }
    this.checkAddress(e, e.src, e.dst);
    if (e.opened) this.countConnection(e);
  }

  private checkAddress(e: NetEvent, src: NetEndpoint, dst: NetEndpoint): void {
    const v = this.pools.ip(dst.ip, dst.port);
    if (v === undefined || v === 'allowed') return;
    const where = dst.port !== undefined ? `${dst.ip}:${dst.port}` : dst.ip;
    const a = this.hit(
      e,
      RULES.poolAddress,
      'high',
      MINING,
      src.ip,
      [v.indicator],
      () =>
        `${src.ip} connected to ${where}${v.via ? ` (an address of ${v.via})` : ''}, a mining pool listed by ${v.source} (${v.indicator}); find the process holding the connection and treat the host as running a miner.`,
      { destination: dst, evidence: { intel: hitEvidence(v) } },
    );
    const dests = (a.evidence['destinations'] as string[] | undefined) ?? [];
    if (dests.length < 20 && !dests.includes(where)) dests.push(where);
    a.evidence['destinations'] = dests;
  }

  private countConnection(e: NetEvent): void {
    const src = e.src!.ip;
    let times = this.rate.get(src);
    if (!times) {
      times = [];
      this.rate.set(src, times);
    }
    times.push(e.tsMs);
    const from = e.tsMs - this.rateWindowMs;
    let drop = 0;
    while (drop < times.length && times[drop]! < from) drop++;
    if (drop > 0) times.splice(0, drop);
    if (times.length > this.rateLimit) {
      const a = this.hit(
        e,
        RULES.rate,
        'medium',
        ['T1046'],
        src,
        [],
        () =>
          `${src} opened more than ${this.rateLimit} new outbound connections within ${this.rateWindowMs / 1000} s (scanning, spreading or a miner cycling pools); look at which process opens them.`,
      );
      const peak = Math.max(Number(a.evidence['peak_connections_per_window'] ?? 0), times.length);
      a.evidence['peak_connections_per_window'] = peak;
      // Keep the window short-lived: once reported, the list only needs the limit's worth.
      if (times.length > this.rateLimit * 4) times.splice(0, times.length - this.rateLimit * 2);
    }
  }

  private poolVerdict(name: string): PoolHit | 'allowed' | null {
    let v = this.nameVerdicts.get(name);
    if (v === undefined) {
      v = this.pools.domain(name) ?? null;
      if (this.nameVerdicts.size > 200_000) this.nameVerdicts.clear();
      this.nameVerdicts.set(name, v);
    }
    return v;
  }

  private poolHit(e: NetEvent, name: string, via: 'dns' | 'tls' | 'http', host: string, pool: PoolHit): void {
    this.hit(
      e,
      RULES.poolDomain,
      'high',
      MINING,
      host,
      [pool.indicator],
      () =>
        `${host} ${via === 'dns' ? 'looked up' : 'contacted'} ${name}, a mining pool listed by ${pool.source} (${pool.indicator}); find the process behind it and treat the host as running a miner.`,
      {
        destination: via === 'dns' ? undefined : e.dst,
        dnsName: via === 'dns' ? name : undefined,
        tlsName: via === 'tls' ? name : undefined,
        evidence: {
          ...(pool.type === 'domain' ? { pool_domain: pool.indicator } : {}),
          intel: hitEvidence(pool),
          names: [name],
          seen_in: via,
        },
      },
    );
  }

  private checkName(e: NetEvent, name: string, via: 'dns' | 'tls' | 'http', host: string): void {
    const pool = this.poolVerdict(name);
    // The allow-list (the organisation's own domains, shared CDNs) silences the name for every check.
    if (pool === 'allowed') return;
    if (pool) {
      this.poolHit(e, name, via, host, pool);
      return;
    }
    if (via === 'http') return;
    if (name.endsWith('.arpa') || name.endsWith('.local') || !name.includes('.')) return;
    const seen = via === 'dns' ? this.dnsWindow(host, name, e.tsMs) : undefined;
    let s = this.scored.get(name);
    if (s === undefined) {
      s = this.score(name);
      if (this.scored.size > 200_000) this.scored.clear();
      this.scored.set(name, s);
    }
    if (s < this.threshold) return;
    // One finding per registered domain: a tunnel or DGA family produces thousands of names under it.
    // Names outside the public suffix list (tunnels to made-up TLDs) group together per host.
    const info = parse(name);
    const base = info.isIcann && info.domain ? info.domain : '(no public suffix)';
    const rule = via === 'dns' ? RULES.randomDns : RULES.randomTls;
    const a = this.hit(
      e,
      rule,
      'medium',
      ['T1568.002'],
      host,
      [base],
      () =>
        `${host} ${via === 'dns' ? 'resolved' : 'connected by TLS to'} ${name}, which looks machine-generated (score ${s.toFixed(2)}); check it against threat intel and the process making the request.`,
      {
        destination: via === 'tls' ? e.dst : undefined,
        dnsName: via === 'dns' ? name : undefined,
        tlsName: via === 'tls' ? name : undefined,
        evidence: { score: Number(s.toFixed(3)) },
      },
    );
    const names = (a.evidence['names'] as string[] | undefined) ?? [];
    if (names.length < 10 && !names.includes(name)) names.push(name);
    a.evidence['names'] = names;
    if (seen) this.countDgaDomain(e, host, base, seen);
  }

  /** Records `name` among the names `host` resolved in the window and expires the old ones. */
  private dnsWindow(host: string, name: string, tsMs: number): DnsWindow {
    let seen = this.dnsSeen.get(host);
    if (seen === undefined) seen = { names: new Map(), dga: new Map(), nx: new Map(), dgaNx: 0, busy: false };
    // Least recently active hosts first, so that the budget below evicts idle ones.
    this.dnsSeen.delete(host);
    this.dnsSeen.set(host, seen);
    if (!seen.names.delete(name)) this.dnsNamesHeld++;
    seen.names.set(name, tsMs);
    const from = tsMs - this.dgaHostWindowMs;
    for (const [m, other] of [
      [seen.names, undefined],
      [seen.dga, seen.nx],
      [seen.nx, seen.dga],
    ] as const) {
      for (const [k, t] of m) {
        if (t >= from && m.size <= MAX_NAMES_PER_HOST) break;
        if (t >= from && other === undefined) seen.busy = true;
        m.delete(k);
        if (other === undefined) this.dnsNamesHeld--;
        else if (other.has(k)) seen.dgaNx--;
      }
    }
    // Memory stays bounded whatever the input: past the budget, the least recently active hosts are forgotten.
    while (this.dnsNamesHeld > MAX_NAMES_HELD || this.dnsSeen.size > MAX_DNS_HOSTS) {
      const [oldest, w] = this.dnsSeen.entries().next().value!;
      if (oldest === host) break;
      this.dnsNamesHeld -= w.names.size;
      this.dnsSeen.delete(oldest);
    }
    return seen;
  }

  /**
   * One random-looking name proves little (the classifier allows 0.3 % false
   * positives per name); a host that resolves many distinct ones in a short
   * time is what a DGA looks like from the network.
   */
  private countDgaDomain(e: NetEvent, host: string, base: string, seen: DnsWindow): void {
    if (base === '(no public suffix)' || seen.busy) return;
    if (!seen.dga.delete(base) && seen.nx.has(base)) seen.dgaNx++;
    seen.dga.set(base, e.tsMs);
    const needed = dgaHostMinimum(seen.names.size, this.dgaHostRule);
    if (seen.dga.size < needed) return;
    const windowText = `${Math.round(this.dgaHostWindowMs / 60_000)} min`;
    const a = this.hit(
      e,
      RULES.dgaHost,
      'high',
      ['T1568.002'],
      host,
      [],
      () =>
        `${host} resolved ${seen.dga.size} distinct random-looking domains (of ${seen.names.size} names) within ${windowText}, the pattern of malware generating names to find its controller or pool proxy; find the process making these DNS queries (it is usually the miner or its dropper).`,
    );
    a.evidence['window_s'] = this.dgaHostWindowMs / 1000;
    if (seen.dga.size > Number(a.evidence['peak_distinct_domains'] ?? 0)) {
      a.evidence['peak_distinct_domains'] = seen.dga.size;
      a.evidence['names_in_window'] = seen.names.size;
      a.evidence['needed'] = needed;
    }
    const domains = (a.evidence['domains'] as string[] | undefined) ?? [];
    for (const b of seen.dga.keys()) {
      if (domains.length >= 20) break;
      if (!domains.includes(b)) domains.push(b);
    }
    a.evidence['domains'] = domains;
    this.nxEvidence(a, seen);
  }

  private dns(e: NetEvent): void {
    const d = e.dns;
    if (!d) return;
    if (d.response) {
      const q = d.questions[0]?.name;
      this.observeAnswers(q, d.answers);
      for (const a of d.answers) {
        if (a.type !== 'A' && a.type !== 'AAAA') continue;
        if (this.pdns.size >= this.maxPdns) {
          const first = this.pdns.keys().next().value;
          if (first !== undefined) this.pdns.delete(first);
        }
        this.pdns.delete(a.data);
        this.pdns.set(a.data, q ?? a.name);
      }
    }
    const host = e.src?.ip ?? 'unknown';
    for (const q of d.questions) this.checkName(e, q.name, 'dns', host);
    if (d.response && d.rcode === NXDOMAIN)
      for (const q of d.questions) this.noteNxdomain(host, q.name, e.tsMs);
  }

  /**
   * Most names a DGA tries were never registered: NXDOMAIN answers to the
   * DGA-like names of a reported host are counted in its evidence.
   */
  private noteNxdomain(host: string, name: string, tsMs: number): void {
    const seen = this.dnsSeen.get(host);
    if (seen === undefined) return;
    const info = parse(name);
    if (!info.isIcann || !info.domain) return;
    if (!seen.nx.delete(info.domain) && seen.dga.has(info.domain)) seen.dgaNx++;
    seen.nx.set(info.domain, tsMs);
    const a = this.aggs.get(`${RULES.dgaHost.id}\0${host}\0`);
    if (a !== undefined) this.nxEvidence(a, seen);
  }

  private nxEvidence(a: Agg, seen: DnsWindow): void {
    a.evidence['nxdomain_domains'] = Math.max(Number(a.evidence['nxdomain_domains'] ?? 0), seen.dgaNx);
  }

  /**
   * Passive DNS for the pool check: the addresses answered for a listed name
   * (the question or any name in its CNAME chain) become pool addresses.
   */
  private observeAnswers(q: string | undefined, answers: NonNullable<NetEvent['dns']>['answers']): void {
    const ips: string[] = [];
    const names: string[] = q ? [q] : [];
    let ttl = Number.POSITIVE_INFINITY;
    for (const a of answers) {
      if (a.type === 'A' || a.type === 'AAAA') {
        ips.push(a.data);
        if (a.ttl !== undefined) ttl = Math.min(ttl, a.ttl);
      } else if (a.type === 'CNAME' && names.length < 8) names.push(a.data);
    }
    if (ips.length === 0) return;
    for (const n of names) this.pools.observeDnsAnswer(n, ips, Number.isFinite(ttl) ? ttl : 0);
  }

  private tls(e: NetEvent): void {
    const t = e.tls;
    if (!t) return;
    const host = e.src?.ip ?? 'unknown';
    const names = new Set<string>();
    if (t.serverName) names.add(t.serverName);
    for (const n of t.certSubjectCn ?? []) names.add(n);
    for (const n of t.certSans ?? []) names.add(n);
    for (const n of names)
      if (!n.startsWith('*.') || n.length > 2) this.checkName(e, n.replace(/^\*\./, ''), 'tls', host);
  }

  private http(e: NetEvent): void {
    const h = e.http;
    if (!h) return;
    const host = e.src?.ip ?? 'unknown';
    if (h.host) this.checkHttp(e, h.host, h.uri, host);
    const ua = h.userAgent;
    if (ua && this.lists.minerAgents.test(ua)) {
      this.hit(
        e,
        RULES.minerAgent,
        'high',
        MINING,
        host,
        [ua],
        () =>
          `${host} sent HTTP with the User-Agent "${ua}", a mining program; find and stop the process, then look for how it got there.`,
        { destination: e.dst, evidence: { user_agent: ua, url: h.uri, http_host: h.host } },
      );
    }
  }

  private checkHttp(e: NetEvent, hostHeader: string, uri: string | undefined, host: string): void {
    const bare = hostHeader.replace(/:\d+$/, '');
    if (!uri || !uri.startsWith('/')) {
      // Without a path only the host can match; names go through the per-name cache.
      if (!/^[\d.:[\]]+$/.test(bare)) this.checkName(e, bare, 'http', host);
      return;
    }
    let v: PoolVerdict;
    try {
      v = this.pools.url(`http://${hostHeader}${uri}`, bare);
    } catch {
      v = undefined;
    }
    if (!v || v === 'allowed') return;
    // An address as host is the flow check's to report, unless a URL indicator names this very URL.
    if (/^[\d.:[\]]+$/.test(bare) && v.type !== 'url') return;
    this.poolHit(e, bare, 'http', host, v);
  }

  private mining(e: NetEvent): void {
    const m = e.mining;
    if (!m || !e.src || !e.dst) return;
    const dst = e.dst;
    const solo = m.protocol === 'getblocktemplate' || m.protocol === 'getwork';
    const confirmed = m.role === 'pool' || MINING_CLIENT_METHODS.has(m.method);
    const severity: Severity = solo ? 'high' : confirmed ? 'critical' : 'high';
    const a = this.hit(
      e,
      RULES.mining,
      severity,
      MINING,
      e.src.ip,
      [`${dst.ip}:${dst.port ?? ''}`],
      () =>
        `${e.src!.ip} is mining: ${m.protocol} ${m.method} with ${this.pdns.get(dst.ip) ?? dst.ip}:${dst.port}; isolate the host, find the miner process and the way it was installed.`,
      { destination: dst, evidence: { protocol: m.protocol } },
    );
    const methods = (a.evidence['methods'] as string[] | undefined) ?? [];
    if (!methods.includes(m.method) && methods.length < 20) methods.push(m.method);
    a.evidence['methods'] = methods;
    if (m.agent && a.evidence['agent'] === undefined) a.evidence['agent'] = m.agent;
    if (m.user && a.evidence['wallet_or_worker'] === undefined) a.evidence['wallet_or_worker'] = m.user;
    if (m.algorithm && a.evidence['algorithm'] === undefined) a.evidence['algorithm'] = m.algorithm;
    if (m.agent && this.lists.minerAgents.test(m.agent)) a.evidence['miner'] = m.agent;
  }

  private p2p(e: NetEvent): void {
    if (!e.src || !e.dst || !e.p2p) return;
    const coin = e.p2p.coin;
    this.hit(
      e,
      RULES.p2p,
      'low',
      [],
      e.src.ip,
      [coin],
      () =>
        `${e.src!.ip} talks the ${coin} peer-to-peer protocol (a node syncing, not mining by itself); confirm the node is sanctioned.`,
      { destination: e.dst, evidence: { coin } },
    );
  }

  private alert(e: NetEvent): void {
    const al = e.alert;
    if (!al || !MINING_IDS_RE.test(`${al.signature} ${al.category ?? ''}`)) return;
    const host = e.src?.ip ?? 'unknown';
    this.hit(
      e,
      RULES.idsAlert,
      'high',
      MINING,
      host,
      [al.signature],
      () => `The IDS saw mining from ${host}: "${al.signature}"; confirm on the host and isolate it.`,
      { destination: e.dst, evidence: { signature: al.signature, category: al.category } },
    );
  }

  private toFinding(a: Agg): Finding {
    const evidence: Record<string, unknown> = { ...a.evidence, file: a.file, observations: a.count };
    evidence[a.unit] = [...a.frames];
    const f = makeFinding({
      rule: { ...a.rule },
      severity: a.severity,
      techniques: a.techniques,
      host: a.host,
      subject: a.subject,
      message: a.message,
      timestamp: isoTime(a.tsMs),
      evidence,
      ...(a.source ? { source: a.source } : {}),
      ...(a.destination ? { destination: a.destination } : {}),
      ...(a.dnsName ? { dns: { question: { name: a.dnsName } } } : {}),
      ...(a.tlsName ? { tls: { server_name: a.tlsName } } : {}),
    });
    return f;
  }
}

/** Capture timestamps can be anything in a damaged file; out-of-range ones become the epoch. */
function isoTime(ms: number): string {
  const d = new Date(Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? ms : 0);
  return d.toISOString();
}
