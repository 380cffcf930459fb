import { parseDuration } from '../../core/config.ts';
import type { ParseIssue } from '../../core/errors.ts';
import type { EcsEvent } from '../../core/event.ts';
import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import { fromSigmaLevel } from '../../core/severity.ts';
import type { FieldView } from './field-view.ts';
import { LIMITS, SIGMA_MAX_TIMESPAN_MS } from './limits.ts';
import type { CorrelationRule, CountCondition, DetectionRule } from './rule.ts';
import { techniquesOf } from './rule.ts';
import { hostOf, recordIdentity, sigmaRuleEvidence } from './sigma-finding.ts';

const AGGREGATION_RE =
  /^count\(\s*([\w.]*)\s*\)\s*(?:by\s+([\w.]+(?:\s*,\s*[\w.]+)*))?\s*(>=|<=|>|<|==|=|!=)\s*(\d+)\s*$/i;
const OPS: Record<string, keyof CountCondition> = {
  '>': 'gt',
  '>=': 'gte',
  '<': 'lt',
  '<=': 'lte',
  '=': 'eq',
  '==': 'eq',
  '!=': 'neq',
};
const MAX_RECORDS = 20;

/** The older `selection | count(field) by group > N` form as a correlation on the rule itself. */
export function aggregationToCorrelation(
  d: DetectionRule,
): { rule: CorrelationRule } | { issue: ParseIssue } {
  const m = AGGREGATION_RE.exec(d.aggregation ?? '');
  if (!m)
    return {
      issue: {
        code: 'SIGMA_UNSUPPORTED',
        message: `${d.title}: aggregation "${d.aggregation}" is not supported`,
        location: d.location,
      },
    };
  let timespanMs = Number.POSITIVE_INFINITY;
  if (d.timeframe) {
    try {
      timespanMs = parseDuration(d.timeframe, 'timeframe', { max: SIGMA_MAX_TIMESPAN_MS });
    } catch {
      return {
        issue: {
          code: 'SIGMA_BAD_DETECTION',
          message: `timeframe "${d.timeframe}" is not a duration`,
          location: d.location,
        },
      };
    }
  }
  const rule: CorrelationRule = {
    ...d,
    kind: 'correlation',
    type: m[1] ? 'value_count' : 'event_count',
    rules: [d.id],
    groupBy: m[2] ? m[2].split(',').map((s) => s.trim()) : [],
    timespanMs,
    condition: { [OPS[m[3]!]!]: Number(m[4]) },
    generate: false,
    aliases: {},
  };
  if (m[1]) rule.field = m[1];
  return { rule };
}

interface Entry {
  t: number;
  ref: number;
  group: string[];
  value: string;
  host: string;
  record: { channel?: string; recordId?: string | number; eventId?: string };
}

interface Active {
  rule: CorrelationRule;
  /** detection rule index → position in rule.rules */
  refs: Map<number, number>;
  /** Matches by group-by values (JSON), at most LIMITS.correlationMatchesPerGroup each. */
  groups: Map<string, Entry[]>;
  fields: Map<number, { groupBy: string[]; value: string | undefined }>;
}

/**
 * The count a correlation tests over a window of a group's matches (sorted
 * by time), kept up to date as the window's ends move forward, so that a
 * group is evaluated in one pass however long the timespan: rebuilding the
 * window at each start made a 3,650-day timespan quadratic.
 */
class WindowCount {
  readonly #type: CorrelationRule['type'];
  readonly #refs: number;
  /** value_count: lower-cased value → matches in the window; temporal: ref → matches. */
  readonly #counts = new Map<string | number, number>();
  /** temporal_ordered: the positions of each ref's matches, ascending. */
  readonly #positions: number[][] = [];

  constructor(type: CorrelationRule['type'], es: readonly Entry[], refs: number) {
    this.#type = type;
    this.#refs = refs;
    if (type === 'temporal_ordered') {
      for (let r = 0; r < refs; r++) this.#positions.push([]);
      es.forEach((e, k) => {
        this.#positions[e.ref]?.push(k);
      });
    }
  }

  #key(e: Entry): string | number | undefined {
    if (this.#type === 'value_count') {
      const v = e.value.toLowerCase();
      return v === '' ? undefined : v;
    }
    return this.#type === 'temporal' ? e.ref : undefined;
  }

  add(e: Entry): void {
    const k = this.#key(e);
    if (k !== undefined) this.#counts.set(k, (this.#counts.get(k) ?? 0) + 1);
  }

  remove(e: Entry): void {
    const k = this.#key(e);
    if (k === undefined) return;
    const n = (this.#counts.get(k) ?? 0) - 1;
    if (n <= 0) this.#counts.delete(k);
    else this.#counts.set(k, n);
  }

  /** The count for the window [i, j]: matches, distinct values, distinct rules, or rules seen in order. */
  count(i: number, j: number): number {
    switch (this.#type) {
      case 'event_count':
        return j - i + 1;
      case 'value_count':
      case 'temporal':
        return this.#counts.size;
      case 'temporal_ordered': {
        // The earliest match of each rule after the previous one's, as a scan of the window would find them.
        let at = i;
        let n = 0;
        for (let r = 0; r < this.#refs; r++) {
          const k = firstAtLeast(this.#positions[r]!, at);
          if (k === undefined || k > j) break;
          n++;
          at = k + 1;
        }
        return n;
      }
    }
  }
}

function firstAtLeast(sorted: readonly number[], x: number): number | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return sorted[lo];
}

function satisfied(c: CountCondition, n: number): boolean {
  if (c.gt !== undefined && !(n > c.gt)) return false;
  if (c.gte !== undefined && !(n >= c.gte)) return false;
  if (c.lt !== undefined && !(n < c.lt)) return false;
  if (c.lte !== undefined && !(n <= c.lte)) return false;
  if (c.eq !== undefined && n !== c.eq) return false;
  if (c.neq !== undefined && n === c.neq) return false;
  return true;
}

/**
 * Correlation rules (event_count, value_count, temporal, temporal_ordered):
 * matches of the referenced rules are kept with their group-by values and
 * evaluated at the end, in time order, so unordered input files still
 * correlate correctly.
 */
export class CorrelationState {
  readonly #active: Active[] = [];
  readonly #byRule = new Map<number, Active[]>();
  readonly #generate = new Map<number, boolean>();
  readonly #detections: readonly DetectionRule[];
  #dropped = 0;

  constructor(
    correlations: readonly CorrelationRule[],
    detections: readonly DetectionRule[],
    issues: ParseIssue[],
  ) {
    this.#detections = detections;
    const byRef = new Map<string, number>();
    detections.forEach((d, i) => {
      byRef.set(d.id, i);
      if (d.name) byRef.set(d.name, i);
    });
    for (const c of correlations) {
      const refs = new Map<number, number>();
      const missing = c.rules.filter((r) => !byRef.has(r));
      if (missing.length > 0) {
        issues.push({
          code: 'SIGMA_BAD_CORRELATION',
          message: `${c.title}: refers to unknown rule(s) ${missing.join(', ')}`,
          location: c.location,
        });
        continue;
      }
      c.rules.forEach((r, pos) => {
        refs.set(byRef.get(r)!, pos);
      });
      const a: Active = { rule: c, refs, groups: new Map(), fields: new Map() };
      this.#active.push(a);
      for (const i of refs.keys()) {
        let list = this.#byRule.get(i);
        if (!list) {
          list = [];
          this.#byRule.set(i, list);
        }
        list.push(a);
        this.#generate.set(i, (this.#generate.get(i) ?? false) || c.generate);
      }
    }
  }

  /** The correlation rules that run (those whose referenced rules were all found). */
  activeRules(): CorrelationRule[] {
    return this.#active.map((a) => a.rule);
  }

  /** Detection rule index → whether it still reports its own matches. */
  referenced(): Iterable<[number, boolean]> {
    return this.#generate.entries();
  }

  /** The event fields (aliases resolved) a correlation reads from one rule's matches; worked out once per pair. */
  #fieldsFor(a: Active, ruleIndex: number): { groupBy: string[]; value: string | undefined } {
    let f = a.fields.get(ruleIndex);
    if (!f) {
      const d = this.#detections[ruleIndex]!;
      const fieldFor = (name: string): string => {
        const al = a.rule.aliases[name];
        return (al?.[d.id] ?? (d.name ? al?.[d.name] : undefined) ?? name).toLowerCase();
      };
      f = { groupBy: a.rule.groupBy.map(fieldFor), value: a.rule.field ? fieldFor(a.rule.field) : undefined };
      a.fields.set(ruleIndex, f);
    }
    return f;
  }

  /** Matches not kept because their group was full (see LIMITS.correlationMatchesPerGroup). */
  get dropped(): number {
    return this.#dropped;
  }

  record(ruleIndex: number, event: EcsEvent, view: FieldView): void {
    const t = Date.parse(event['@timestamp'] ?? '');
    if (Number.isNaN(t)) return;
    for (const a of this.#byRule.get(ruleIndex) ?? []) {
      const fields = this.#fieldsFor(a, ruleIndex);
      const group = fields.groupBy.map((g) => view.get(g) ?? '');
      const key = group.length === 0 ? '' : JSON.stringify(group);
      let list = a.groups.get(key);
      if (!list) {
        list = [];
        a.groups.set(key, list);
      }
      // A bound per group keeps a flood of matches (which the attacker can cause) from exhausting memory.
      if (list.length >= LIMITS.correlationMatchesPerGroup) {
        this.#dropped++;
        continue;
      }
      list.push({
        t,
        ref: a.refs.get(ruleIndex)!,
        group,
        value: fields.value === undefined ? '' : (view.get(fields.value) ?? ''),
        host: hostOf(event),
        record: recordIdentity(event),
      });
    }
  }

  finalize(): Finding[] {
    const out: Finding[] = [];
    for (const a of this.#active) {
      for (const es of a.groups.values()) {
        es.sort((x, y) => x.t - y.t || x.ref - y.ref);
        // Each match enters and leaves the window once: linear after the sort.
        const w = new WindowCount(a.rule.type, es, a.rule.rules.length);
        let j = -1;
        for (let i = 0; i < es.length; ) {
          if (j < i) {
            j = i;
            w.add(es[i]!);
          }
          while (j + 1 < es.length && es[j + 1]!.t - es[i]!.t <= a.rule.timespanMs) w.add(es[++j]!);
          const hit = this.#test(a.rule, w.count(i, j));
          if (hit !== undefined) {
            out.push(this.#finding(a, es.slice(i, j + 1), hit));
            for (let k = i; k <= j; k++) w.remove(es[k]!);
            i = j + 1;
          } else {
            w.remove(es[i]!);
            i++;
          }
        }
      }
      a.groups.clear();
    }
    return out;
  }

  /** The count that satisfied the rule, or undefined. */
  #test(r: CorrelationRule, n: number): number | undefined {
    switch (r.type) {
      case 'event_count':
      case 'value_count':
        return satisfied(r.condition, n) ? n : undefined;
      case 'temporal': {
        const ok =
          n === r.rules.length && (Object.keys(r.condition).length === 0 || satisfied(r.condition, n));
        return ok ? n : undefined;
      }
      case 'temporal_ordered':
        return n === r.rules.length ? n : undefined;
    }
  }

  #finding(a: Active, win: Entry[], count: number): Finding {
    const r = a.rule;
    const first = win[0]!;
    const last = win[win.length - 1]!;
    const group = Object.fromEntries(r.groupBy.map((g, i) => [g, first.group[i]]));
    const groupText = r.groupBy.length
      ? ` for ${r.groupBy.map((g, i) => `${g}=${first.group[i]}`).join(', ')}`
      : '';
    const what =
      r.type === 'event_count'
        ? `${count} matching events`
        : r.type === 'value_count'
          ? `${count} distinct ${r.field} values`
          : `all ${r.rules.length} correlated rules${r.type === 'temporal_ordered' ? ' in order' : ''}`;
    return makeFinding({
      rule: { id: r.id, name: r.title, ruleset: 'sigma' },
      severity: fromSigmaLevel(r.level),
      techniques: techniquesOf(r.tags),
      host: first.host,
      subject: [r.type, JSON.stringify(first.group), String(first.t)],
      message: `${r.title} on ${first.host}: ${what}${groupText} between ${new Date(first.t).toISOString()} and ${new Date(last.t).toISOString()}.`,
      timestamp: new Date(last.t).toISOString(),
      evidence: {
        sigma: sigmaRuleEvidence(r),
        ...(r.triage ? { next_step: r.triage } : {}),
        correlation: {
          type: r.type,
          group,
          count,
          first: new Date(first.t).toISOString(),
          last: new Date(last.t).toISOString(),
          records: win.slice(0, MAX_RECORDS).map((e) => ({
            rule: this.#detections[[...a.refs].find(([, p]) => p === e.ref)![0]]!.id,
            ...(e.record.channel ? { channel: e.record.channel } : {}),
            ...(e.record.recordId !== undefined ? { record_id: e.record.recordId } : {}),
            ...(e.record.eventId ? { event_code: e.record.eventId } : {}),
          })),
        },
      },
    });
  }
}
