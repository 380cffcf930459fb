import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import type { NetEndpoint, NetEvent } from '../../core/net-event.ts';
import type { Severity } from '../../core/severity.ts';
import { maxSeverity } from '../../core/severity.ts';
import type { RuleDeclaration } from '../../core/stages.ts';
import { LruMap } from './lru-map.ts';

export type Destination = NetEndpoint & { domain?: string };

/**
 * The observations of one rule firing on one subject, gathered until the
 * finding is handed out: a capture shows a miner's stratum session as
 * thousands of packets, the report shows it once with its first frames.
 */
export interface PendingFinding {
  rule: RuleDeclaration;
  severity: Severity;
  /** The source address; the host name is looked up when the finding is built, so a name learned later counts. */
  address: string;
  subject: string[];
  message: string;
  tsMs: number;
  /** Time of the latest observation. */
  lastMs: number;
  source?: NetEndpoint;
  destination?: Destination;
  dnsName?: string;
  tlsName?: string;
  evidence: Record<string, unknown>;
  file: string;
  /** Frame numbers (captures) or line numbers (logs) of the first observations. */
  frames: number[];
  unit: 'frames' | 'lines';
  count: number;
}

/** What a rule adds to a finding beyond rule, host and subject. */
export interface ObservationDetails {
  destination?: NetEndpoint | undefined;
  dnsName?: string | undefined;
  tlsName?: string | undefined;
  evidence?: Record<string, unknown>;
}

const MAX_FRAMES = 20;

function keyOf(ruleId: string, address: string, subject: readonly string[]): string {
  return `${ruleId}\0${address}\0${subject.join('\0')}`;
}

/**
 * One pending finding per rule, address and subject. Bounded: past `max`
 * the findings already handed out are forgotten first (least recently seen
 * first; one seen again is then handed out again, with the same fingerprint
 * for the pipeline to de-duplicate); when only unreported ones are left, the
 * oldest is handed out early through `drain()` rather than lost.
 */
export class PendingFindings {
  /** Not handed out yet, in the order they were first seen (the order `drain()` reports them). */
  readonly #pending: LruMap<string, PendingFinding>;
  /** Handed out, least recently seen first: kept so that further observations do not report them again. */
  readonly #reported: LruMap<string, PendingFinding>;
  readonly #early: Finding[] = [];
  readonly #max: number;
  readonly #build: (p: PendingFinding) => Finding;
  readonly #destination: (ep: NetEndpoint) => Destination;

  constructor(opts: {
    max: number;
    build: (p: PendingFinding) => Finding;
    /** The destination as the finding shows it (with the name passive DNS knows for it). */
    destination: (ep: NetEndpoint) => Destination;
  }) {
    this.#max = Math.max(2, Math.floor(opts.max));
    this.#build = opts.build;
    this.#destination = opts.destination;
    this.#pending = new LruMap(this.#max, (_, p) => this.#early.push(this.#build(p)));
    this.#reported = new LruMap(this.#max);
  }

  /** Handed-out findings forgotten to make room. */
  get evicted(): number {
    return this.#reported.evicted;
  }

  /** Findings handed out before their stream ended, to make room. */
  get handedOutEarly(): number {
    return this.#pending.evicted;
  }

  get size(): number {
    return this.#pending.size + this.#reported.size;
  }

  /**
   * Adds one observation: the first one sets message, time, endpoints and
   * evidence; later ones raise the severity, add evidence keys not yet there
   * and their frame numbers.
   */
  record(
    e: NetEvent,
    rule: RuleDeclaration,
    severity: Severity,
    address: string,
    subject: string[],
    message: () => string,
    details: ObservationDetails = {},
  ): PendingFinding {
    const key = keyOf(rule.id, address, subject);
    // Pending ones keep their first-seen place (the report order); reported ones count as just seen.
    let p = this.#pending.peek(key) ?? this.#reported.get(key);
    if (p === undefined) {
      p = {
        rule,
        severity,
        address,
        subject,
        message: message(),
        tsMs: e.tsMs,
        lastMs: e.tsMs,
        file: e.file,
        frames: [],
        unit: e.frame !== undefined ? 'frames' : 'lines',
        count: 0,
        evidence: { ...details.evidence },
      };
      if (e.src) p.source = { ...e.src };
      if (details.destination) p.destination = this.#destination(details.destination);
      if (details.dnsName) p.dnsName = details.dnsName;
      if (details.tlsName) p.tlsName = details.tlsName;
      this.#pending.set(key, p);
      if (this.size > this.#max) this.makeRoom();
    } else {
      p.severity = maxSeverity(p.severity, severity);
      if (details.evidence)
        for (const [k, v] of Object.entries(details.evidence)) if (!(k in p.evidence)) p.evidence[k] = v;
    }
    p.count++;
    if (e.tsMs > p.lastMs) p.lastMs = e.tsMs;
    const at = e.frame ?? e.line;
    if (at !== undefined && p.frames.length < MAX_FRAMES && e.file === p.file) p.frames.push(at);
    return p;
  }

  /** The finding being gathered (or already handed out) for this rule, address and subject. */
  find(ruleId: string, address: string, subject: readonly string[]): PendingFinding | undefined {
    const key = keyOf(ruleId, address, subject);
    return this.#pending.peek(key) ?? this.#reported.peek(key);
  }

  /** Findings handed out early to make room (complete as far as this stream goes); none most of the time. */
  takeEarly(): Finding[] | undefined {
    return this.#early.length > 0 ? this.#early.splice(0) : undefined;
  }

  /** Findings not handed out yet, in the order first seen; they stay known so that they are not reported twice. */
  drain(): Finding[] {
    const out = this.#early.splice(0);
    for (const [key, p] of this.#pending.entries()) {
      out.push(this.#build(p));
      this.#reported.set(key, p);
    }
    this.#pending.clear();
    return out;
  }

  private makeRoom(): void {
    if (this.#reported.size > 0) this.#reported.evictOldest();
    // Only unreported findings left: the oldest is handed out now (the newest is the one being recorded).
    else this.#pending.evictOldest();
  }
}

/** Capture timestamps can be anything in a damaged file; out-of-range ones become the epoch. */
export function isoTime(ms: number): string {
  const d = new Date(Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? ms : 0);
  return d.toISOString();
}

/** The finding a pending one becomes, its host named by `hostOf(address)`. */
export function buildFinding(p: PendingFinding, host: string): Finding {
  const evidence: Record<string, unknown> = {};
  // Lists keep growing while the finding gathers: the finding gets its own copy of each.
  for (const [k, v] of Object.entries(p.evidence)) evidence[k] = Array.isArray(v) ? [...v] : v;
  evidence['file'] = p.file;
  evidence['observations'] = p.count;
  evidence['first_seen'] = isoTime(p.tsMs);
  evidence['last_seen'] = isoTime(Math.max(p.tsMs, p.lastMs));
  evidence[p.unit] = [...p.frames];
  return makeFinding({
    rule: { id: p.rule.id, name: p.rule.name, ruleset: p.rule.ruleset },
    severity: p.severity,
    techniques: p.rule.techniques,
    host,
    subject: p.subject,
    message: p.message,
    timestamp: isoTime(p.tsMs),
    evidence,
    ...(p.source ? { source: p.source } : {}),
    ...(p.destination ? { destination: p.destination } : {}),
    ...(p.dnsName ? { dns: { question: { name: p.dnsName } } } : {}),
    ...(p.tlsName ? { tls: { server_name: p.tlsName } } : {}),
  });
}
