import type { ParseIssue } from '../../core/errors.ts';
import type { EcsEvent } from '../../core/event.ts';
import type { Finding } from '../../core/finding.ts';
import { fromSigmaLevel } from '../../core/severity.ts';
import type { RuleDeclaration, StreamDetector } from '../../core/stages.ts';
import { AhoCorasick } from './aho-corasick.ts';
import type { Cover } from './compile.ts';
import { CompileError, compileDetection, LeafTable } from './compile.ts';
import { aggregationToCorrelation, CorrelationState } from './correlation.ts';
import type { FieldView } from './field-view.ts';
import type { EventSource, LogsourceMap } from './logsource-map.ts';
import { sourcesFor } from './logsource-map.ts';
import type { Atom, CompileOptions } from './modifiers.ts';
import type { CorrelationRule, DetectionRule, SigmaRule } from './rule.ts';
import { techniquesOf } from './rule.ts';
import { findingFor } from './sigma-finding.ts';
import { channelOf, eventIdOf, fieldViewOf } from './winlog-event.ts';

/** One rule compiled for one event source. */
interface Variant {
  rule: DetectionRule;
  ruleIndex: number;
  where: [string, Set<string>][] | undefined;
  test: () => boolean;
  cover: Cover;
  leaves: number[];
}

interface AtomEntry {
  op: Atom['op'];
  length: number;
  /** Rules that become candidates when the atom is found. */
  variants: number[];
  /** Exact leaves that hold when the atom is found. */
  leaves: number[];
}

/**
 * The rules of one channel/event-id pair with their necessary literals per
 * field in one automaton each: an event runs one scan per field and then
 * evaluates only the rules one of whose literals it holds (plus the few
 * rules without such literals).
 */
interface Bucket {
  variants: Variant[];
  always: Uint8Array;
  alwaysList: number[];
  fields: { field: string; ac: AhoCorasick; entries: AtomEntry[][] }[];
  /** Leaf ids the scan decides (see LeafTable.begin). */
  decided: Uint8Array;
  mark: Uint32Array;
  gen: number;
}

/** A type, not an interface, so that it is the `Record<string, number>` a stream detector's `stats()` returns. */
export type EngineStats = {
  rules: number;
  detectionRules: number;
  correlationRules: number;
  /** Rules compiled for at least one event source. */
  runnable: number;
  /** Rules whose logsource the mapping does not know (not run). */
  unmapped: number;
  /** Rule/source pairs left out because the source lacks a field the rule reads. */
  skippedForFields: number;
  leafTests: number;
  /** Correlation matches not kept because their group was full (LIMITS.correlationMatchesPerGroup). */
  correlationDropped: number;
};

export interface EngineOptions extends CompileOptions {
  logsources: LogsourceMap;
}

/** One event's matches in a worker: its findings, and the rules whose matches feed correlations. */
export interface SplitMatches {
  findings: Finding[];
  /** Indexes (into the detection rules) of matched rules that correlations read. */
  correlated: number[];
}

/**
 * The detection rules and the correlations of a rule set, in the order the
 * engine indexes them (aggregations such as `| count() by X > N` become
 * correlations on their own rule). Rule indexes are positions in `detections`.
 */
export function splitRules(rules: readonly SigmaRule[]): {
  detections: DetectionRule[];
  correlations: CorrelationRule[];
  issues: ParseIssue[];
} {
  const detections = rules.filter((r): r is DetectionRule => r.kind === 'detection');
  const correlations = rules.filter((r): r is CorrelationRule => r.kind === 'correlation');
  const issues: ParseIssue[] = [];
  for (const d of detections) {
    if (!d.aggregation) continue;
    const c = aggregationToCorrelation(d);
    if ('issue' in c) issues.push(c.issue);
    else correlations.push(c.rule);
  }
  return { detections, correlations, issues };
}

/** SigmaHQ's way of saying it knows of no false positive. */
const NO_FALSE_POSITIVE = /^(?:unknown|unlikely|none|n\/a)\.?$/i;

/**
 * How a Sigma rule appears in the rule catalog. Its triage note is deminer's
 * `triage:`, else what can make it fire wrongly, else its description.
 */
export function sigmaRuleDeclaration(rule: SigmaRule): RuleDeclaration {
  const severity = fromSigmaLevel(rule.level);
  const falsePositives = rule.falsepositives.filter((f) => !NO_FALSE_POSITIVE.test(f.trim()));
  const triage =
    rule.triage ??
    (falsePositives.length > 0
      ? `Rule out the known false positives: ${falsePositives.join('; ')}.`
      : (rule.description ?? rule.title));
  return {
    id: rule.id,
    name: rule.title,
    ruleset: 'sigma',
    severity: { min: severity, max: severity },
    techniques: [...new Set(techniquesOf(rule.tags))].sort(),
    triage,
  };
}

export interface RuleMatch {
  rule: DetectionRule;
  ruleIndex: number;
  event: EcsEvent;
  view: FieldView;
}

/**
 * The Sigma detector: rules are compiled once per event source they apply to
 * and indexed by channel and event id, so that each event meets only the
 * rules of its log source.
 */
export class SigmaEngine implements StreamDetector<EcsEvent> {
  readonly id = 'sigma';
  readonly description = 'Sigma rules over event-log records and ECS event documents';
  readonly issues: ParseIssue[] = [];
  /** The rules that can fire: runnable detection rules that report their matches, and correlations. */
  readonly rules: readonly RuleDeclaration[];
  readonly detectionRules: readonly DetectionRule[];
  /** Matches per rule id, for the summary. */
  readonly hits = new Map<string, number>();
  readonly #stats: EngineStats;

  readonly #leaves = new LeafTable();
  /** `channel|eventid`, `channel|*` or `*|*` → variants. */
  readonly #index = new Map<string, Variant[]>();
  readonly #byKey = new Map<string, Bucket>();
  readonly #correlation: CorrelationState;
  /** Rules that only feed correlations (`generate: false`) report nothing themselves. */
  readonly #silent = new Set<number>();
  readonly #correlated = new Set<number>();

  constructor(rules: readonly SigmaRule[], opts: EngineOptions) {
    const { detections, correlations, issues } = splitRules(rules);
    this.issues.push(...issues);
    this.detectionRules = detections;
    const runnableIndexes = new Set<number>();
    let runnable = 0;
    let unmapped = 0;
    let skipped = 0;
    const systemFields = new Set(opts.logsources.system_fields.map((f) => f.toLowerCase()));
    detections.forEach((rule, ruleIndex) => {
      const sources = sourcesFor(opts.logsources, rule.logsource);
      if (!sources) {
        unmapped++;
        return;
      }
      let compiled = 0;
      for (const src of sources) {
        try {
          const v = this.#compileVariant(rule, ruleIndex, src, opts, systemFields);
          if (v === 'fields') skipped++;
          else {
            this.#add(src, v);
            compiled++;
          }
        } catch (e) {
          if (!(e instanceof CompileError)) throw e;
          this.issues.push({
            code: e.code,
            message: `${rule.title}: ${e.message}`,
            location: (e.identifier && rule.lines[e.identifier]) || rule.location,
          });
          break;
        }
      }
      // A variant compiled before an error still runs, so the rule counts (and is declared) as runnable.
      if (compiled > 0) {
        runnable++;
        runnableIndexes.add(ruleIndex);
      }
    });
    this.#correlation = new CorrelationState(correlations, detections, this.issues);
    for (const [i, gen] of this.#correlation.referenced()) {
      this.#correlated.add(i);
      if (!gen) this.#silent.add(i);
    }
    this.rules = declarationsOf([
      ...detections.filter((_, i) => runnableIndexes.has(i) && !this.#silent.has(i)),
      ...this.#correlation.activeRules(),
    ]);
    this.#stats = {
      rules: rules.length,
      detectionRules: detections.length,
      correlationRules: correlations.length,
      runnable,
      unmapped,
      skippedForFields: skipped,
      leafTests: this.#leaves.size,
      correlationDropped: 0,
    };
  }

  #compileVariant(
    rule: DetectionRule,
    ruleIndex: number,
    src: EventSource,
    opts: CompileOptions,
    systemFields: Set<string>,
  ): Variant | 'fields' {
    const rename = new Map(Object.entries(src.fields ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const compiled = compileDetection(rule, this.#leaves, rename, opts);
    if (src.available) {
      const avail = new Set(src.available.map((f) => f.toLowerCase()));
      for (const f of compiled.fields) {
        const lf = f.toLowerCase();
        const mapped = (rename.get(lf) ?? f).toLowerCase();
        if (!avail.has(mapped) && !systemFields.has(lf)) return 'fields';
      }
    }
    const where = src.where
      ? Object.entries(src.where).map(([k, vs]): [string, Set<string>] => [
          k.toLowerCase(),
          new Set(vs.map((v) => v.toLowerCase())),
        ])
      : undefined;
    return {
      rule,
      ruleIndex,
      where,
      test: compiled.test,
      cover: compiled.cover,
      leaves: compiled.leaves,
    };
  }

  #add(src: EventSource, v: Variant): void {
    const ch = src.channel === '*' ? '*' : src.channel.toLowerCase();
    const keys = src.event_ids?.length ? src.event_ids.map((id) => `${ch}|${id}`) : [`${ch}|*`];
    for (const k of keys) {
      let list = this.#index.get(k);
      if (!list) {
        list = [];
        this.#index.set(k, list);
      }
      list.push(v);
    }
  }

  #bucketFor(channel: string, eventId: string): Bucket {
    const key = `${channel}|${eventId}`;
    let b = this.#byKey.get(key);
    if (!b) {
      b = this.#buildBucket([
        ...(this.#index.get(key) ?? []),
        ...(this.#index.get(`${channel}|*`) ?? []),
        ...(this.#index.get('*|*') ?? []),
      ]);
      this.#byKey.set(key, b);
    }
    return b;
  }

  #buildBucket(variants: Variant[]): Bucket {
    const always = new Uint8Array(variants.length);
    type Targets = { variants: Set<number>; leaves: Set<number> };
    const perField = new Map<string, Map<string, Map<Atom['op'], Targets>>>();
    const targets = (field: string, a: Atom): Targets => {
      let texts = perField.get(field);
      if (!texts) {
        texts = new Map();
        perField.set(field, texts);
      }
      let ops = texts.get(a.text);
      if (!ops) {
        ops = new Map();
        texts.set(a.text, ops);
      }
      let t = ops.get(a.op);
      if (!t) {
        t = { variants: new Set(), leaves: new Set() };
        ops.set(a.op, t);
      }
      return t;
    };
    variants.forEach((v, vi) => {
      const fieldsOk = v.cover?.every((id) => this.#leaves.fieldOf(id) !== null && this.#leaves.atomsOf(id));
      if (!v.cover || !fieldsOk) {
        always[vi] = 1;
        return;
      }
      for (const id of v.cover) {
        const field = this.#leaves.fieldOf(id)!;
        for (const a of this.#leaves.atomsOf(id)!) targets(field, a).variants.add(vi);
      }
    });
    // Exact leaves on fields scanned anyway are decided by the same scan instead of by their tests.
    const decided = new Uint8Array(this.#leaves.size);
    for (const v of variants)
      for (const id of v.leaves) {
        const field = this.#leaves.fieldOf(id);
        if (decided[id] === 1 || field === null || !this.#leaves.isExact(id) || !perField.has(field))
          continue;
        decided[id] = 1;
        for (const a of this.#leaves.atomsOf(id)!) targets(field, a).leaves.add(id);
      }
    const fields = [...perField].map(([field, texts]) => {
      const patterns = [...texts.keys()];
      return {
        field,
        ac: new AhoCorasick(patterns),
        entries: patterns.map((p) =>
          [...texts.get(p)!].map(([op, t]) => ({
            op,
            length: p.length,
            variants: [...t.variants],
            leaves: [...t.leaves],
          })),
        ),
      };
    });
    const alwaysList = variants.map((_, i) => i).filter((i) => always[i] === 1);
    return {
      variants,
      always,
      alwaysList,
      fields,
      decided,
      mark: new Uint32Array(variants.length),
      gen: 0,
    };
  }

  /** How many rules an event of this channel and id meets, and how many of them run without a literal prefilter. */
  indexStats(channel: string, eventId: string): { rules: number; unfiltered: string[] } {
    const b = this.#bucketFor(channel.toLowerCase(), eventId);
    return {
      rules: b.variants.length,
      unfiltered: b.variants.filter((_, i) => b.always[i] === 1).map((v) => v.rule.title),
    };
  }

  /** The rules that fire on one event (a rule that fits several sources fires once). */
  matchEvent(event: EcsEvent): RuleMatch[] {
    const bucket = this.#bucketFor(channelOf(event), eventIdOf(event));
    const variants = bucket.variants;
    if (variants.length === 0) return [];
    const view = fieldViewOf(event);
    const leaves = this.#leaves;
    leaves.begin(view, bucket.decided);
    bucket.gen = (bucket.gen + 1) >>> 0 || 1;
    const gen = bucket.gen;
    const mark = bucket.mark;
    const candidates = [...bucket.alwaysList];
    for (const f of bucket.fields) {
      const value = view.lower(f.field);
      if (value === undefined) continue;
      const len = value.length;
      f.ac.scan(value, (pid, start) => {
        for (const e of f.entries[pid]!) {
          const ok =
            e.op === 'contains' ||
            (e.op === 'prefix'
              ? start === 0
              : e.op === 'suffix'
                ? start + e.length === len
                : start === 0 && e.length === len);
          if (!ok) continue;
          for (const id of e.leaves) leaves.hit(id);
          for (const vi of e.variants)
            if (mark[vi] !== gen) {
              mark[vi] = gen;
              candidates.push(vi);
            }
        }
      });
    }
    if (candidates.length === 0) return [];
    // Source order, so that a rule compiled for several sources is reported once and deterministically.
    candidates.sort((a, b) => a - b);
    const out: RuleMatch[] = [];
    let last = -1;
    for (const vi of candidates) {
      const v = variants[vi]!;
      if (v.ruleIndex === last) continue;
      if (v.where && !v.where.every(([k, vs]) => vs.has(view.lower(k) ?? ''))) continue;
      if (!v.test()) continue;
      last = v.ruleIndex;
      if (out.some((m) => m.ruleIndex === v.ruleIndex)) continue;
      out.push({ rule: v.rule, ruleIndex: v.ruleIndex, event, view });
    }
    return out;
  }

  /** Compile figures: rules loaded, runnable, left out. */
  stats(): EngineStats {
    return { ...this.#stats, correlationDropped: this.#correlation.dropped };
  }

  observe(event: EcsEvent): Finding[] {
    const matches = this.matchEvent(event);
    if (matches.length === 0) return [];
    const out: Finding[] = [];
    for (const m of matches) {
      const idx = m.ruleIndex;
      this.hits.set(m.rule.id, (this.hits.get(m.rule.id) ?? 0) + 1);
      if (this.#correlated.has(idx)) this.#correlation.record(idx, m.event, m.view);
      if (!this.#silent.has(idx)) out.push(findingFor(m.rule, m.event, m.view));
    }
    return out;
  }

  /**
   * `observe` for a worker: the correlations are kept elsewhere (one
   * state for the whole input, see `SigmaCorrelations`), so the matches that
   * feed them are handed back instead of recorded here.
   */
  observeSplit(event: EcsEvent): SplitMatches {
    const out: SplitMatches = { findings: [], correlated: [] };
    for (const m of this.matchEvent(event)) {
      const idx = m.ruleIndex;
      this.hits.set(m.rule.id, (this.hits.get(m.rule.id) ?? 0) + 1);
      if (this.#correlated.has(idx)) out.correlated.push(idx);
      if (!this.#silent.has(idx)) out.findings.push(findingFor(m.rule, m.event, m.view));
    }
    return out;
  }

  finalize(): Finding[] {
    const out = this.#correlation.finalize();
    for (const f of out) this.hits.set(f.rule.id, (this.hits.get(f.rule.id) ?? 0) + 1);
    return out;
  }
}

/**
 * The correlations of a rule set, kept on their own: the one-shot pipeline
 * matches files in workers (`observeSplit`) and records here, in
 * input order, the matches that correlations read.
 */
export class SigmaCorrelations {
  readonly issues: ParseIssue[] = [];
  readonly #state: CorrelationState;

  constructor(rules: readonly SigmaRule[]) {
    const { detections, correlations, issues } = splitRules(rules);
    this.issues.push(...issues);
    this.#state = new CorrelationState(correlations, detections, this.issues);
  }

  /** A match of detection rule `ruleIndex` (as `observeSplit` reports it) on `event`. */
  record(ruleIndex: number, event: EcsEvent): void {
    this.#state.record(ruleIndex, event, fieldViewOf(event));
  }

  finalize(): Finding[] {
    return this.#state.finalize();
  }

  /** Matches not kept because their group was full (LIMITS.correlationMatchesPerGroup). */
  get dropped(): number {
    return this.#state.dropped;
  }
}

/** One declaration per rule id: an aggregation's correlation carries its own rule's id and metadata. */
function declarationsOf(rules: readonly SigmaRule[]): RuleDeclaration[] {
  const byId = new Map<string, RuleDeclaration>();
  for (const r of rules) if (!byId.has(r.id)) byId.set(r.id, sigmaRuleDeclaration(r));
  return [...byId.values()];
}
