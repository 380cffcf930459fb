import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { parseDuration, yamlLineOf } from '../../core/config.ts';
import type { ParseIssue } from '../../core/errors.ts';
import { checkYamlBounds, DEFAULT_YAML_BOUNDS } from '../../core/yaml-bounds.ts';
import { LIMITS, SIGMA_MAX_TIMESPAN_MS } from './limits.ts';
import type { CorrelationRule, CountCondition, DetectionRule, LogSource, SigmaRule } from './rule.ts';
import { CORRELATION_TYPES } from './rule.ts';

export interface LoadedRules {
  rules: SigmaRule[];
  issues: ParseIssue[];
  files: number;
}

const LEVELS = new Set(['informational', 'low', 'medium', 'high', 'critical']);
const STATUSES = new Set(['stable', 'test', 'experimental', 'deprecated', 'unsupported']);

class RuleError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly path: readonly (string | number)[] = [],
  ) {
    super(message);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function stringField(o: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new RuleError('SIGMA_MISSING_FIELD', `"${key}" is required`, [key]);
    return undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new RuleError('SIGMA_BAD_FIELD', `"${key}" must be a string`, [key]);
  return String(v);
}

function strList(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) throw new RuleError('SIGMA_BAD_FIELD', `"${key}" must be a list`, [key]);
  return v.map((x, i) => {
    if (typeof x !== 'string' && typeof x !== 'number')
      throw new RuleError('SIGMA_BAD_FIELD', `"${key}" entries must be strings`, [key, i]);
    return String(x);
  });
}

function common(o: Record<string, unknown>, location: string, file: string) {
  const title = stringField(o, 'title', true)!;
  const id = stringField(o, 'id', false) ?? stringField(o, 'name', false) ?? title;
  const level = stringField(o, 'level', false);
  if (level !== undefined && !LEVELS.has(level))
    throw new RuleError('SIGMA_BAD_LEVEL', `level "${level}" is not one of ${[...LEVELS].join(', ')}`, [
      'level',
    ]);
  const status = stringField(o, 'status', false);
  if (status !== undefined && !STATUSES.has(status))
    throw new RuleError('SIGMA_BAD_STATUS', `status "${status}" is not one of ${[...STATUSES].join(', ')}`, [
      'status',
    ]);
  const out = {
    location,
    file,
    id,
    title,
    tags: strList(o, 'tags'),
    falsepositives: strList(o, 'falsepositives'),
    references: strList(o, 'references'),
  } as DetectionRule;
  const opt: [keyof DetectionRule, string][] = [
    ['name', 'name'],
    ['description', 'description'],
    ['status', 'status'],
    ['level', 'level'],
    ['author', 'author'],
    ['triage', 'triage'],
    ['coveredBy', 'covered_by'],
  ];
  for (const [k, src] of opt) {
    const v = stringField(o, src, false);
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

function detectionRule(
  o: Record<string, unknown>,
  base: DetectionRule,
  lines: (p: (string | number)[]) => string,
) {
  const ls = o['logsource'];
  if (!isRecord(ls))
    throw new RuleError('SIGMA_MISSING_FIELD', '"logsource" is required and must be a map', ['logsource']);
  const logsource: LogSource = {};
  for (const k of ['product', 'category', 'service'] as const) {
    const v = ls[k];
    if (v !== undefined && v !== null) {
      if (typeof v !== 'string')
        throw new RuleError('SIGMA_BAD_FIELD', `logsource.${k} must be a string`, ['logsource', k]);
      logsource[k] = v.toLowerCase();
    }
  }
  const det = o['detection'];
  if (!isRecord(det))
    throw new RuleError('SIGMA_MISSING_FIELD', '"detection" is required and must be a map', ['detection']);
  const cond = det['condition'];
  let conditions: string[];
  if (typeof cond === 'string') conditions = [cond];
  else if (Array.isArray(cond) && cond.every((c) => typeof c === 'string')) conditions = cond as string[];
  else
    throw new RuleError('SIGMA_MISSING_FIELD', 'detection.condition is required (a string or a list)', [
      'detection',
      'condition',
    ]);
  const detection: Record<string, unknown> = {};
  const lineMap: Record<string, string> = {};
  let values = 0;
  for (const [k, v] of Object.entries(det)) {
    if (k === 'condition' || k === 'timeframe') continue;
    values += checkValues(v, k);
    if (values > LIMITS.valuesPerRule)
      throw new RuleError(
        'SIGMA_TOO_LARGE',
        `the detection has more than ${LIMITS.valuesPerRule} values; split the rule`,
        ['detection', k],
      );
    detection[k] = v;
    lineMap[k] = lines(['detection', k]);
  }
  // Condition errors are found when the rule compiles; they point here, not at the rule's first line.
  lineMap['condition'] = lines(['detection', 'condition']);
  let aggregation: string | undefined;
  const split = conditions.map((c) => {
    const bar = c.indexOf('|');
    if (bar < 0) return c;
    aggregation = c.slice(bar + 1).trim();
    return c.slice(0, bar).trim();
  });
  const rule: DetectionRule = {
    ...base,
    kind: 'detection',
    logsource,
    detection,
    conditions: split,
    lines: lineMap,
  };
  if (aggregation !== undefined) rule.aggregation = aggregation;
  const tf = det['timeframe'];
  if (typeof tf === 'string') rule.timeframe = tf;
  return rule;
}

/** Counts the values under a search identifier, refusing one that is too long. */
function checkValues(v: unknown, identifier: string): number {
  let n = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (Array.isArray(x)) stack.push(...x);
    else if (isRecord(x)) stack.push(...Object.values(x));
    else {
      n++;
      if (typeof x === 'string' && x.length > LIMITS.valueLength)
        throw new RuleError(
          'SIGMA_TOO_LARGE',
          `a value of "${identifier}" has ${x.length} characters, more than ${LIMITS.valueLength}`,
          ['detection', identifier],
        );
    }
  }
  return n;
}

function correlationRule(o: Record<string, unknown>, base: DetectionRule): CorrelationRule {
  const c = o['correlation'];
  if (!isRecord(c)) throw new RuleError('SIGMA_BAD_FIELD', '"correlation" must be a map', ['correlation']);
  const type = c['type'];
  if (typeof type !== 'string' || !(CORRELATION_TYPES as readonly string[]).includes(type))
    throw new RuleError(
      'SIGMA_BAD_CORRELATION',
      `correlation.type must be one of ${CORRELATION_TYPES.join(', ')}`,
      ['correlation', 'type'],
    );
  const rules = strList(c, 'rules');
  if (rules.length === 0)
    throw new RuleError('SIGMA_BAD_CORRELATION', 'correlation.rules must name rules', [
      'correlation',
      'rules',
    ]);
  const ts = c['timespan'] ?? c['timeframe'];
  if (typeof ts !== 'string')
    throw new RuleError('SIGMA_BAD_CORRELATION', 'correlation.timespan is required', ['correlation']);
  let timespanMs: number;
  try {
    timespanMs = parseDuration(ts, 'timespan', { max: SIGMA_MAX_TIMESPAN_MS });
  } catch {
    throw new RuleError('SIGMA_BAD_CORRELATION', `timespan "${ts}" is not a duration`, [
      'correlation',
      'timespan',
    ]);
  }
  const condition: CountCondition = {};
  let field: string | undefined;
  const cc = c['condition'];
  if (isRecord(cc)) {
    for (const [k, v] of Object.entries(cc)) {
      if (k === 'field') field = String(v);
      else if (['gt', 'gte', 'lt', 'lte', 'eq', 'neq'].includes(k) && typeof v === 'number')
        condition[k as keyof CountCondition] = v;
      else
        throw new RuleError('SIGMA_BAD_CORRELATION', `correlation.condition.${k} is not understood`, [
          'correlation',
          'condition',
          k,
        ]);
    }
  } else if (type === 'event_count' || type === 'value_count')
    throw new RuleError('SIGMA_BAD_CORRELATION', `${type} needs a condition such as {gte: 10}`, [
      'correlation',
    ]);
  if (type === 'value_count' && !field)
    throw new RuleError('SIGMA_BAD_CORRELATION', 'value_count needs condition.field', [
      'correlation',
      'condition',
    ]);
  const aliases: Record<string, Record<string, string>> = {};
  const al = c['aliases'];
  if (isRecord(al))
    for (const [name, m] of Object.entries(al)) {
      if (!isRecord(m)) continue;
      aliases[name] = Object.fromEntries(Object.entries(m).map(([r, f]) => [r, String(f)]));
    }
  const out: CorrelationRule = {
    ...base,
    kind: 'correlation',
    type: type as CorrelationRule['type'],
    rules,
    groupBy: strList(c, 'group-by'),
    timespanMs,
    condition,
    generate: c['generate'] === true,
    aliases,
  };
  if (field) out.field = field;
  return out;
}

/** Parses one YAML text (possibly several documents) into rules and issues. */
export function parseRuleText(text: string, file: string): { rules: SigmaRule[]; issues: ParseIssue[] } {
  if (text.length > LIMITS.ruleFileBytes) return { rules: [], issues: [tooLarge(text.length, file)] };
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: false });
  const rules: SigmaRule[] = [];
  const issues: ParseIssue[] = [];
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    issues.push({ code: 'SIGMA_BAD_YAML', message: 'not a YAML stream', location: `${file}:1` });
    return { rules, issues };
  }
  for (const doc of list) {
    const start = doc.range ? lc.linePos(doc.range[0]).line : 1;
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      issues.push({
        code: 'SIGMA_BAD_YAML',
        message: e.message.split('\n')[0] ?? 'invalid YAML',
        location: `${file}:${lc.linePos(e.pos[0]).line}`,
      });
      continue;
    }
    const refusal = checkYamlBounds(doc, {
      ...DEFAULT_YAML_BOUNDS,
      aliases: LIMITS.yamlAliases,
      uniqueKeys: false,
    });
    if (refusal) {
      issues.push({
        code: 'SIGMA_BAD_YAML',
        message: refusal.message,
        location: `${file}:${lc.linePos(refusal.offset).line}`,
      });
      continue;
    }
    // Bounded above, so yaml's own (quadratic) alias accounting is not needed.
    const o: unknown = doc.toJS({ maxAliasCount: -1 });
    if (o === null || o === undefined) continue;
    const lines = (p: (string | number)[]): string => `${file}:${yamlLineOf(doc, p, lc) ?? 1}`;
    try {
      if (!isRecord(o)) throw new RuleError('SIGMA_BAD_RULE', 'a rule must be a YAML map');
      if ('action' in o)
        throw new RuleError('SIGMA_UNSUPPORTED', 'rule collections with "action" are not supported', [
          'action',
        ]);
      const base = common(o, `${file}:${start}`, file);
      rules.push('correlation' in o ? correlationRule(o, base) : detectionRule(o, base, lines));
    } catch (e) {
      if (!(e instanceof RuleError)) throw e;
      issues.push({ code: e.code, message: e.message, location: lines([...e.path]) });
    }
  }
  return { rules, issues };
}

function tooLarge(bytes: number, file: string): ParseIssue {
  return {
    code: 'SIGMA_TOO_LARGE',
    message: `rule file of ${bytes} bytes is over the limit of ${LIMITS.ruleFileBytes}; not loaded`,
    location: `${file}:1`,
  };
}

function walk(path: string, out: string[], issues: ParseIssue[]): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    issues.push({ code: 'SIGMA_UNREADABLE', message: 'no such file or folder', location: path });
    return;
  }
  if (st.isDirectory()) {
    for (const e of readdirSync(path).sort()) {
      if (e.startsWith('.')) continue;
      const p = join(path, e);
      if (statSync(p).isDirectory()) walk(p, out, issues);
      else if (/\.ya?ml$/i.test(e)) out.push(p);
    }
  } else out.push(path);
}

/** Loads rules from files and folders (SigmaHQ layout: every .yml below a folder). */
export function loadRules(paths: readonly string[]): LoadedRules {
  const files: string[] = [];
  const issues: ParseIssue[] = [];
  for (const p of paths) walk(p, files, issues);
  const rules: SigmaRule[] = [];
  for (const f of files) {
    let text: string;
    try {
      const size = statSync(f).size;
      if (size > LIMITS.ruleFileBytes) {
        issues.push(tooLarge(size, f));
        continue;
      }
      text = readFileSync(f, 'utf8');
    } catch {
      issues.push({ code: 'SIGMA_UNREADABLE', message: 'cannot read rule file', location: f });
      continue;
    }
    const r = parseRuleText(text, f);
    rules.push(...r.rules);
    issues.push(...r.issues);
  }
  return { rules, issues, files: files.length };
}
