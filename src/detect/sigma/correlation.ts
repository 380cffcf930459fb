import { parseDuration } from '../../core/config.ts';
import type { ParseIssue } from '../../core/errors.ts';
import type { EcsEvent } from '../../core/event.ts';
import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import { fromSigmaLevel } from '../../core/severity.ts';
import type { FieldView } from './field-view.ts';
import type { CorrelationRule, CountCondition, DetectionRule } from './rule.ts';
import { techniquesOf } from './rule.ts';
import { hostOf, recordIdentity, sigmaRuleEvidence } from './sigma-finding.ts';

const AGG =
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
  const m = AGG.exec(d.aggregation ?? '');
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
      timespanMs = parseDuration(d.timeframe);
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
  entries: Entry[];
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
      const a: Active = { rule: c, refs, entries: [] };
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

  /** Detection rule index → whether it still reports its own matches. */
  referenced(): Iterable<[number, boolean]> {
    return this.#generate.entries();
  }

  record(ruleIndex: number, event: EcsEvent, view: FieldView): void {
    const t = Date.parse(event['@timestamp'] ?? '');
    if (Number.isNaN(t)) return;
    const d = this.#detections[ruleIndex]!;
    for (const a of this.#byRule.get(ruleIndex) ?? []) {
      const fieldFor = (f: string): string => {
        const al = a.rule.aliases[f];
        return (al?.[d.id] ?? (d.name ? al?.[d.name] : undefined) ?? f).toLowerCase();
      };
      a.entries.push({
        t,
        ref: a.refs.get(ruleIndex)!,
        group: a.rule.groupBy.map((g) => view.get(fieldFor(g)) ?? ''),
        value: a.rule.field ? (view.get(fieldFor(a.rule.field)) ?? '') : '',
        host: hostOf(event, view),
        record: recordIdentity(event),
      });
    }
  }

  finalize(): Finding[] {
    const out: Finding[] = [];
    for (const a of this.#active) {
      const groups = new Map<string, Entry[]>();
      for (const e of a.entries) {
        const k = JSON.stringify(e.group);
        let g = groups.get(k);
        if (!g) {
          g = [];
          groups.set(k, g);
        }
        g.push(e);
      }
      for (const es of groups.values()) {
        es.sort((x, y) => x.t - y.t || x.ref - y.ref);
        let j = 0;
        for (let i = 0; i < es.length; ) {
          if (j < i) j = i;
          while (j + 1 < es.length && es[j + 1]!.t - es[i]!.t <= a.rule.timespanMs) j++;
          const win = es.slice(i, j + 1);
          const hit = this.#test(a, win);
          if (hit !== undefined) {
            out.push(this.#finding(a, win, hit));
            i = j + 1;
          } else i++;
        }
      }
      a.entries.length = 0;
    }
    return out;
  }

  /** The count that satisfied the rule, or undefined. */
  #test(a: Active, win: Entry[]): number | undefined {
    const r = a.rule;
    switch (r.type) {
      case 'event_count':
        return satisfied(r.condition, win.length) ? win.length : undefined;
      case 'value_count': {
        const n = new Set(win.map((e) => e.value.toLowerCase()).filter((v) => v !== '')).size;
        return satisfied(r.condition, n) ? n : undefined;
      }
      case 'temporal': {
        const n = new Set(win.map((e) => e.ref)).size;
        const ok =
          n === r.rules.length && (Object.keys(r.condition).length === 0 || satisfied(r.condition, n));
        return ok ? n : undefined;
      }
      case 'temporal_ordered': {
        let next = 0;
        for (const e of win) if (e.ref === next) next++;
        return next === r.rules.length ? next : undefined;
      }
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
