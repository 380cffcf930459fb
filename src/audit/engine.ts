import { type FixedBuildTable, judgeBuild, loadFixedBuildTable } from './exchange-table.ts';
import { describeList, SHOWN_ITEMS } from './report.ts';
import type { Check, CheckResult, Expected, Fact, FactReader, Status, Value } from './types.ts';
import { normalizePrincipal } from './windows/sids.ts';

/** Most items of an observed list a result carries (json, jsonl, csv, findings); the note gives the full count. */
export const MAX_OBSERVED_ITEMS = 1000;

/** Days between an ISO date and `now`; undefined when the text is no date. */
function ageDays(text: string, now: Date): number | undefined {
  const t = Date.parse(text);
  if (!Number.isFinite(t)) return undefined;
  return Math.floor((now.getTime() - t) / 86_400_000);
}

function asList(v: Value): string[] | undefined {
  if (Array.isArray(v)) return v;
  if (v === null) return [];
  return undefined;
}

/** Case-insensitive comparison of scalars (registry values are text, sysctls numbers). */
function same(a: Value, b: Expected): boolean {
  if (typeof a === 'boolean' || typeof b === 'boolean')
    return String(a).toLowerCase() === String(b).toLowerCase();
  return String(a).trim().toLowerCase() === String(b).trim().toLowerCase();
}

/** The expected value as a person reads it. */
export function describeExpected(c: Check): string {
  const e = c.expected;
  const list = (l: readonly string[]): string => (l.length === 0 ? '(none)' : l.join(', '));
  switch (c.operator) {
    case 'eq':
      return String(e);
    case 'ne':
      return `not ${String(e)}`;
    case 'gte':
      return `>= ${String(e)}`;
    case 'lte':
      return `<= ${String(e)}`;
    case 'in':
      return `one of: ${list(e as string[])}`;
    case 'subset_of':
      return `only: ${list(e as string[])}`;
    case 'contains':
      return `includes ${String(e)}`;
    case 'flags_include':
      return `${String(e)} audited`;
    case 'fixed_build':
      return `at or after the fixed build of its CU (${String(e)})`;
    case 'max_age_days':
      return `at most ${String(e)} days old`;
  }
}

/** Audit setting bits (auditpol's Setting Value): 1 success, 2 failure. */
const FLAG_BITS: Readonly<Record<string, number>> = {
  no_auditing: 0,
  success: 1,
  failure: 2,
  success_and_failure: 3,
};

interface Verdict {
  status: Status;
  note?: string;
}

export class CheckEngine {
  private readonly tables = new Map<string, FixedBuildTable>();

  constructor(private readonly now: Date = new Date()) {}

  private table(name: string): FixedBuildTable {
    let t = this.tables.get(name);
    if (!t) {
      t = loadFixedBuildTable(name);
      this.tables.set(name, t);
    }
    return t;
  }

  /** The first read spec that gives a value (translated by its `map`). */
  private readFact(c: Check, reader: FactReader): Fact | undefined {
    for (const spec of c.read) {
      const f = reader.read(spec);
      if (!f) continue;
      if (spec.map && typeof f.value === 'string') {
        const key = Object.keys(spec.map).find((k) => k.toLowerCase() === String(f.value).toLowerCase());
        if (key !== undefined) return { ...f, value: spec.map[key]! };
      }
      return f;
    }
    return undefined;
  }

  compare(c: Check, value: Value, fact?: Fact): Verdict {
    const e = c.expected;
    if (value === null) return { status: 'unknown' };
    switch (c.operator) {
      case 'eq':
        return { status: same(value, e) ? 'pass' : 'fail' };
      case 'ne':
        return { status: same(value, e) ? 'fail' : 'pass' };
      case 'gte':
      case 'lte': {
        const n = Number(value);
        if (typeof value === 'boolean' || Array.isArray(value) || !Number.isFinite(n))
          return { status: 'unknown', note: 'not a number' };
        const ok = c.operator === 'gte' ? n >= Number(e) : n <= Number(e);
        return { status: ok ? 'pass' : 'fail' };
      }
      case 'in':
        return { status: (e as string[]).some((x) => same(value, x)) ? 'pass' : 'fail' };
      case 'subset_of': {
        const l = asList(value);
        if (!l) return { status: 'unknown', note: 'not a list' };
        // User rights are read as SIDs: a site may write `Administrators` or `*S-1-5-32-544`.
        const privilege = c.read.some((r) => r.method === 'privilege');
        const allowed = new Set(
          (e as string[]).map((x) => (privilege ? normalizePrincipal(x) : x).toLowerCase()),
        );
        const extra = l.filter((x) => !allowed.has(x.toLowerCase()));
        if (extra.length === 0) return { status: 'pass' };
        // When nothing observed is allowed the observed list says it all: no second copy of it.
        if (extra.length === l.length) return { status: 'fail' };
        return { status: 'fail', note: `not allowed: ${describeList(extra, SHOWN_ITEMS)}` };
      }
      case 'contains': {
        const l = asList(value);
        if (!l) return { status: 'unknown', note: 'not a list' };
        return { status: l.some((x) => same(x, e)) ? 'pass' : 'fail' };
      }
      case 'flags_include': {
        const want = FLAG_BITS[String(e).toLowerCase()] ?? 1;
        const n = FLAG_BITS[String(value).toLowerCase()] ?? Number(value);
        if (!Number.isInteger(n)) return { status: 'unknown', note: 'not an audit setting' };
        return { status: (n & want) === want ? 'pass' : 'fail' };
      }
      case 'fixed_build': {
        const v = judgeBuild(this.table(String(e)), String(value), fact?.cuOnly === true);
        return { status: v.status, note: v.release ? `${v.release}: ${v.reason}` : v.reason };
      }
      case 'max_age_days': {
        const d = ageDays(String(value), this.now);
        if (d === undefined) return { status: 'unknown', note: 'not a date' };
        return { status: d <= Number(e) ? 'pass' : 'fail', note: `${d} days old` };
      }
    }
  }

  evaluate(c: Check, reader: FactReader, host: string): CheckResult {
    const base = {
      check: { id: c.id, title: c.title },
      expected: describeExpected(c),
      fix: c.fix,
      host,
      severity: c.severity,
      techniques: [...c.attack],
    };
    const f = this.readFact(c, reader);
    if (!f) {
      return {
        ...base,
        status: c.absent ?? 'unknown',
        observed: null,
        source: '',
        note: 'not found in the inputs',
      };
    }
    // A reader that found the subject absent decides (no sudo: n/a; no Yama: fail); else the operator does.
    const v: Verdict = f.status ? { status: f.status } : this.compare(c, f.value, f);
    let observed = f.value;
    let cut: string | undefined;
    if (Array.isArray(observed) && observed.length > MAX_OBSERVED_ITEMS) {
      cut = `first ${MAX_OBSERVED_ITEMS} of ${observed.length} listed`;
      observed = observed.slice(0, MAX_OBSERVED_ITEMS);
    }
    const note = [f.note, v.note, cut].filter((x) => x).join('; ');
    const r: CheckResult = { ...base, status: v.status, observed, source: f.source };
    if (note) r.note = note;
    return r;
  }
}

/** Results for a host of `platform`: only that platform's checks are run. */
export function auditHost(
  engine: CheckEngine,
  checks: readonly Check[],
  reader: FactReader,
  host: string,
  platform: 'windows' | 'linux',
): CheckResult[] {
  return checks.filter((c) => c.platform === platform).map((c) => engine.evaluate(c, reader, host));
}
