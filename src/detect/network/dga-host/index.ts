import { parse } from 'tldts';
import { type NetEvent, NXDOMAIN } from '../../../core/net-event.ts';
import type { RuleDeclaration } from '../../../core/stages.ts';
import { alternativeRootDomain } from '../alt-root/tld.ts';
import { LruMap } from '../lru-map.ts';
import type { NetworkContext } from '../network-context.ts';
import { NO_PUBLIC_SUFFIX } from '../network-context.ts';
import type { NetworkRuleInstance, NetworkRuleModule } from '../network-rule.ts';
import type { NetworkDetectorOptions } from '../options.ts';
import type { PendingFinding } from '../pending-finding.ts';
import { DEFAULT_DGA_HOST_RULE, type DgaHostRule, dgaHostMinimum } from './minimum.ts';

export const DGA_HOST: RuleDeclaration = {
  id: 'deminer.network.dga_host',
  name: 'Host resolving many random-looking domains (DGA at work)',
  ruleset: 'builtin',
  severity: { min: 'high', max: 'high' },
  techniques: ['T1568.002'],
  triage:
    'Find the process making these DNS queries (it is usually the miner or its dropper); evidence.domains lists what it tried and nxdomain_domains how many were never registered.',
};

/** What one host resolved within the window: name or registered domain → last seen, oldest first. */
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

const MAX_NAMES_PER_HOST = 10_000;

/**
 * Names under an alternative DNS root (EmerDNS, Namecoin, OpenNIC: see
 * `../alt-root/`) count as DGA-like whatever their score.
 *
 * One random-looking name proves little (the classifier allows 0.3 % false
 * positives per name); a host that resolves many distinct ones in a short
 * time is what a DGA looks like from the network.
 */
class DgaHost implements NetworkRuleInstance {
  readonly #ctx: NetworkContext;
  readonly #rule: DgaHostRule;
  readonly #windowMs: number;
  readonly #maxNamesHeld: number;
  /** Per host, least recently active first, so that the budgets forget idle hosts first. */
  readonly #windows: LruMap<string, DnsWindow>;
  /** Names held in all windows together. */
  #namesHeld = 0;

  constructor(ctx: NetworkContext, opts: NetworkDetectorOptions) {
    this.#ctx = ctx;
    this.#rule = { ...DEFAULT_DGA_HOST_RULE, ...opts.dgaHostRule };
    this.#windowMs = opts.dgaHostWindowMs ?? 3_600_000;
    this.#maxNamesHeld = ctx.limits.dnsWindowNames;
    this.#windows = new LruMap(ctx.limits.dnsWindowHosts, (_, w) => {
      this.#namesHeld -= w.names.size;
    });
  }

  observe(e: NetEvent): void {
    const d = e.dns;
    if (!d) return;
    const address = e.src?.ip ?? 'unknown';
    for (const q of d.questions) {
      const facts = this.#ctx.name(q.name);
      if (!facts.judged) continue;
      const seen = this.window(address, q.name, e.tsMs);
      // A name in an alternative root (`.bazar`, `.bit`) counts whatever its score: benign
      // hosts do not use those roots, and the families that do pick names the model may not flag.
      const alt = alternativeRootDomain(q.name);
      if (alt !== undefined) this.countDgaDomain(e, address, alt, seen);
      else if (facts.score >= this.#ctx.randomThreshold)
        this.countDgaDomain(e, address, facts.registeredDomain, seen);
    }
    if (d.response && d.rcode === NXDOMAIN)
      for (const q of d.questions) this.noteNxdomain(address, q.name, e.tsMs);
  }

  /** Records `name` among the names `address` resolved in the window and expires the old ones. */
  private window(address: string, name: string, tsMs: number): DnsWindow {
    let seen = this.#windows.get(address);
    if (seen === undefined) {
      seen = { names: new Map(), dga: new Map(), nx: new Map(), dgaNx: 0, busy: false };
      this.#windows.set(address, seen);
    }
    if (!seen.names.delete(name)) this.#namesHeld++;
    seen.names.set(name, tsMs);
    const from = tsMs - this.#windowMs;
    for (const [m, other] of [
      [seen.names, undefined],
      [seen.dga, seen.nx],
      [seen.nx, seen.dga],
    ] as const) {
      for (const [k, t] of m) {
        if (t >= from && m.size <= MAX_NAMES_PER_HOST) break;
        if (t >= from && other === undefined) seen.busy = true;
        m.delete(k);
        if (other === undefined) this.#namesHeld--;
        else if (other.has(k)) seen.dgaNx--;
      }
    }
    // Memory stays bounded whatever the input: past the budget, the least recently active hosts are
    // forgotten (this one, just touched, is the most recent).
    while (this.#namesHeld > this.#maxNamesHeld && this.#windows.size > 1) this.#windows.evictOldest();
    return seen;
  }

  private countDgaDomain(e: NetEvent, address: string, base: string, seen: DnsWindow): void {
    if (base === NO_PUBLIC_SUFFIX || seen.busy) return;
    if (!seen.dga.delete(base) && seen.nx.has(base)) seen.dgaNx++;
    seen.dga.set(base, e.tsMs);
    const needed = dgaHostMinimum(seen.names.size, this.#rule);
    if (seen.dga.size < needed) return;
    const windowText = `${Math.round(this.#windowMs / 60_000)} min`;
    const p = this.#ctx.record(
      e,
      DGA_HOST,
      'high',
      address,
      [],
      () =>
        `${address} resolved ${seen.dga.size} distinct random-looking or alternative-root domains (of ${seen.names.size} names) within ${windowText}, the pattern of malware generating names to find its controller or pool proxy; find the process making these DNS queries (it is usually the miner or its dropper).`,
    );
    p.evidence['window_s'] = this.#windowMs / 1000;
    if (seen.dga.size > Number(p.evidence['peak_distinct_domains'] ?? 0)) {
      p.evidence['peak_distinct_domains'] = seen.dga.size;
      p.evidence['names_in_window'] = seen.names.size;
      p.evidence['needed'] = needed;
    }
    const domains = (p.evidence['domains'] as string[] | undefined) ?? [];
    for (const b of seen.dga.keys()) {
      if (domains.length >= 20) break;
      if (!domains.includes(b)) domains.push(b);
    }
    p.evidence['domains'] = domains;
    nxEvidence(p, seen);
  }

  /**
   * Most names a DGA tries were never registered: NXDOMAIN answers to the
   * DGA-like names of a reported host are counted in its evidence.
   */
  private noteNxdomain(address: string, name: string, tsMs: number): void {
    const seen = this.#windows.peek(address);
    if (seen === undefined) return;
    const info = parse(name);
    const base = alternativeRootDomain(name) ?? (info.isIcann && info.domain ? info.domain : undefined);
    if (base === undefined) return;
    if (!seen.nx.delete(base) && seen.dga.has(base)) seen.dgaNx++;
    seen.nx.set(base, tsMs);
    const p = this.#ctx.findings.find(DGA_HOST.id, address, []);
    if (p !== undefined) nxEvidence(p, seen);
  }

  stats(): Record<string, number> {
    return {
      dns_window_hosts: this.#windows.size,
      dns_window_names: this.#namesHeld,
      dns_window_hosts_evicted: this.#windows.evicted,
    };
  }
}

function nxEvidence(p: PendingFinding, seen: DnsWindow): void {
  p.evidence['nxdomain_domains'] = Math.max(Number(p.evidence['nxdomain_domains'] ?? 0), seen.dgaNx);
}

/** Hosts resolving, within the window, more distinct DGA-like registered domains than chance explains. */
export const dgaHost: NetworkRuleModule = {
  folder: 'dga-host',
  rules: [DGA_HOST],
  kinds: ['dns'],
  create: (ctx, opts) => new DgaHost(ctx, opts),
};
