import { type Finding, makeFinding } from '../core/finding.ts';
import type { Severity } from '../core/severity.ts';
import type { CheckResult, Status } from './types.ts';

/** How much a check weighs in the score: a critical failure costs more than a low one. */
const WEIGHT: Readonly<Record<Severity, number>> = { low: 1, medium: 2, high: 3, critical: 5 };

export interface HostScore {
  /** 0–100: the weighted share of decided checks that pass; null when none was decided. */
  score: number | null;
  counts: Record<Status, number>;
}

export function scoreOf(results: readonly CheckResult[]): HostScore {
  const counts: Record<Status, number> = { pass: 0, fail: 0, not_applicable: 0, unknown: 0 };
  let pass = 0;
  let all = 0;
  for (const r of results) {
    counts[r.status]++;
    if (r.status === 'pass' || r.status === 'fail') {
      all += WEIGHT[r.severity];
      if (r.status === 'pass') pass += WEIGHT[r.severity];
    }
  }
  return { score: all === 0 ? null : Math.round((100 * pass) / all), counts };
}

/** Items of a list shown to a person (a table, a finding's message); the machine formats carry them all. */
export const SHOWN_ITEMS = 8;

/** `a, b, c … and N more`: the first `max` items of a list. */
export function describeList(list: readonly string[], max = Number.POSITIVE_INFINITY): string {
  if (list.length === 0) return '(none)';
  if (list.length <= max) return list.join(', ');
  return `${list.slice(0, max).join(', ')} … and ${list.length - max} more`;
}

/** The observed value as text; a list cut to its first `maxItems` items. */
export function describeObserved(v: CheckResult['observed'], maxItems?: number): string {
  if (v === null) return '(none)';
  if (Array.isArray(v)) return describeList(v, maxItems);
  return String(v);
}

/**
 * A failed check as a finding of the usual shape (DESIGN.md §4), so the
 * platform stores posture beside detections: rule `deminer.posture.<id>`,
 * one fingerprint per host and check.
 */
export function findingOf(r: CheckResult, timestamp?: string): Finding {
  return makeFinding({
    rule: { id: `deminer.posture.${r.check.id}`, name: r.check.title, ruleset: 'builtin' },
    severity: r.severity,
    techniques: r.techniques,
    host: r.host,
    subject: [r.check.id],
    message: `${r.check.title}: failed (observed ${describeObserved(r.observed, SHOWN_ITEMS)}; expected ${r.expected}). Fix: ${r.fix}`,
    ...(timestamp ? { timestamp } : {}),
    evidence: {
      check: r.check.id,
      observed: r.observed,
      expected: r.expected,
      source: r.source,
      fix: r.fix,
      ...(r.note ? { note: r.note } : {}),
    },
  });
}
