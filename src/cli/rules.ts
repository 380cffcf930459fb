import { sep } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { ParseIssue } from '../core/errors.ts';
import { UsageError } from '../core/errors.ts';
import { PACKAGE_ROOT } from '../core/paths.ts';
import { SEVERITIES } from '../core/severity.ts';
import { builtinDetectors, ruleCatalog } from '../detect/catalog.ts';
import {
  COMMUNITY_ATTRIBUTION,
  COMMUNITY_PREFIX,
  isCommunityRule,
  loadCommunityRules,
  readCommunityPack,
} from '../detect/sigma/community.ts';
import { loadSigmaRules, sigmaEngineOf } from '../detect/sigma/index.ts';
import type { SigmaRule } from '../detect/sigma/rule.ts';
import { techniquesOf } from '../detect/sigma/rule.ts';
import { escapeControls, TextTable } from '../outputs/index.ts';
import type { RegisterCommand } from './command.ts';
import { EXIT, parseChoice } from './command.ts';
import { addOutputOptions, type OutputCliOptions, withResultOut } from './output-options.ts';

/**
 * `deminer rules list|show|stats`: the one rule catalog — the rules deminer's
 * own detectors declare (src/detect/catalog.ts), the built-in Sigma rules
 * (rules/) and SigmaHQ's community set (data/sigma/community/).
 */

const SOURCES = ['builtin', 'community', 'all'] as const;
type SourceChoice = (typeof SOURCES)[number];
const LEVELS = ['informational', ...SEVERITIES] as const;
const LIST_FORMATS = ['table', 'json', 'jsonl'] as const;
const SHOW_FORMATS = ['text', 'json'] as const;
const STATS_FORMATS = ['table', 'json'] as const;

/** ATT&CK tactics as Sigma tags name them (`attack.defense-evasion`; older rules use `_`). */
const TACTICS = new Set([
  'reconnaissance',
  'resource-development',
  'initial-access',
  'execution',
  'persistence',
  'privilege-escalation',
  'defense-evasion',
  'credential-access',
  'discovery',
  'lateral-movement',
  'collection',
  'command-and-control',
  'exfiltration',
  'impact',
]);

interface CatalogRow {
  id: string;
  title: string;
  source: 'builtin' | 'community';
  kind: 'detector' | 'sigma' | 'correlation';
  /** Sigma level, or the severity range a detector's findings carry (`low..critical`). */
  level: string;
  status?: string;
  logsource?: string;
  tags: string[];
  techniques: string[];
  author?: string;
  /** `file:line` (Sigma rules) or the detectors that declare it. */
  location: string;
}

interface SetLoad {
  rules: SigmaRule[];
  files: number;
  loadIssues: ParseIssue[];
  compileIssues?: ParseIssue[];
  runnable?: number;
  unmapped?: number;
}

interface Catalog {
  rows: CatalogRow[];
  sigma: Map<CatalogRow, SigmaRule>;
  sets: Partial<Record<'builtin' | 'community', SetLoad>>;
  detectorRules: number;
}

const ROOT_PREFIX = `${PACKAGE_ROOT}${sep}`;
const shortPath = (p: string): string => (p.startsWith(ROOT_PREFIX) ? p.slice(ROOT_PREFIX.length) : p);

function logsourceText(r: SigmaRule): string {
  if (r.kind === 'correlation') return `correlation:${r.type}`;
  const ls = r.logsource;
  return [ls.product, ls.category, ls.service].filter((x) => x !== undefined).join('/') || '(none)';
}

function sigmaRow(r: SigmaRule, source: CatalogRow['source']): CatalogRow {
  const row: CatalogRow = {
    id: r.id,
    title: r.title,
    source,
    kind: r.kind === 'correlation' ? 'correlation' : 'sigma',
    level: r.level ?? 'medium',
    logsource: logsourceText(r),
    tags: r.tags.map((t) => t.toLowerCase()),
    techniques: [...new Set(techniquesOf(r.tags))].sort(),
    location: shortPath(r.location),
  };
  if (r.status !== undefined) row.status = r.status;
  if (r.author !== undefined) row.author = r.author;
  return row;
}

function loadSet(source: 'builtin' | 'community', compile: boolean): SetLoad {
  const loaded = source === 'builtin' ? loadSigmaRules({ builtin: true }) : loadCommunityRules('community');
  const set: SetLoad = { rules: loaded.rules, files: loaded.files, loadIssues: loaded.issues };
  if (compile) {
    const engine = sigmaEngineOf(loaded.rules);
    const stats = engine.stats();
    set.compileIssues = [...engine.issues];
    set.runnable = stats.runnable;
    set.unmapped = stats.unmapped;
  }
  return set;
}

function buildCatalog(source: SourceChoice, compile: boolean): Catalog {
  const cat: Catalog = { rows: [], sigma: new Map(), sets: {}, detectorRules: 0 };
  if (source !== 'community') {
    // deminer's own detectors; the Sigma engine's declarations are the rules below, with their files.
    for (const e of ruleCatalog(builtinDetectors().filter((d) => d.id !== 'sigma'))) {
      cat.detectorRules++;
      cat.rows.push({
        id: e.id,
        title: e.name,
        source: 'builtin',
        kind: 'detector',
        level: e.severity.min === e.severity.max ? e.severity.min : `${e.severity.min}..${e.severity.max}`,
        tags: e.techniques.map((t) => `attack.${t.toLowerCase()}`),
        techniques: e.techniques,
        location: `detector ${e.detectors.join(', ')}`,
      });
    }
  }
  for (const s of ['builtin', 'community'] as const) {
    if (source !== 'all' && source !== s) continue;
    const set = loadSet(s, compile);
    cat.sets[s] = set;
    for (const r of set.rules) {
      const row = sigmaRow(r, isCommunityRule(r) ? 'community' : 'builtin');
      cat.rows.push(row);
      cat.sigma.set(row, r);
    }
  }
  return cat;
}

const LEVEL_RANK: Readonly<Record<string, number>> = {
  informational: 0,
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
};

function levelMatches(row: CatalogRow, wanted: ReadonlySet<string>): boolean {
  const [lo, hi = lo] = row.level.split('..');
  const a = LEVEL_RANK[lo ?? ''] ?? -1;
  const b = LEVEL_RANK[hi ?? ''] ?? -1;
  for (const w of wanted) {
    const r = LEVEL_RANK[w]!;
    if (r >= a && r <= b) return true;
  }
  return false;
}

function tagMatches(row: CatalogRow, wanted: readonly string[]): boolean {
  return wanted.some((t) => row.tags.includes(t) || row.tags.includes(`attack.${t}`));
}

interface ListOptions extends OutputCliOptions {
  source: string;
  level?: string;
  tag: string[];
}

function splitList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

function publicRow(row: CatalogRow): Record<string, unknown> {
  return { ...row };
}

function countBy(
  rows: readonly CatalogRow[],
  key: (r: CatalogRow) => readonly string[],
): Record<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) for (const k of key(r)) m.set(k, (m.get(k) ?? 0) + 1);
  return Object.fromEntries([...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

function issueCounts(issues: readonly ParseIssue[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const i of issues) m[i.code] = (m[i.code] ?? 0) + 1;
  return m;
}

function tacticsOf(row: CatalogRow): string[] {
  const out = new Set<string>();
  for (const t of row.tags) {
    const name = t.startsWith('attack.') ? t.slice(7).replaceAll('_', '-') : '';
    if (TACTICS.has(name)) out.add(name);
  }
  return out.size > 0 ? [...out] : ['(none)'];
}

function sigmaDetail(r: SigmaRule): Record<string, unknown> {
  if (r.kind === 'correlation') {
    const c: Record<string, unknown> = {
      type: r.type,
      rules: r.rules,
      timespan: `${r.timespanMs / 1000}s`,
    };
    if (r.groupBy.length) c['group-by'] = r.groupBy;
    if (Object.keys(r.condition).length)
      c['condition'] = { ...r.condition, ...(r.field ? { field: r.field } : {}) };
    return { correlation: c };
  }
  const conds = r.conditions.map((c) => (r.aggregation ? `${c} | ${r.aggregation}` : c));
  const d: Record<string, unknown> = { ...r.detection, condition: conds.length === 1 ? conds[0] : conds };
  if (r.timeframe) d['timeframe'] = r.timeframe;
  return { detection: d };
}

function showJson(row: CatalogRow, rule: SigmaRule | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = publicRow(row);
  if (rule) {
    if (rule.description) out['description'] = rule.description;
    out['references'] = rule.references;
    out['falsepositives'] = rule.falsepositives;
    if (rule.kind === 'detection') out['logsource_fields'] = rule.logsource;
    Object.assign(out, sigmaDetail(rule));
  }
  if (row.source === 'community') {
    const pack = readCommunityPack();
    out['attribution'] = {
      ...COMMUNITY_ATTRIBUTION,
      repository: pack.repository,
      commit: pack.commit,
      ...(rule ? { url: ruleUrl(pack, rule) } : {}),
      author: rule?.author ?? null,
    };
  }
  return out;
}

/** Where the rule lives in SigmaHQ's repository, at the packed commit. */
function ruleUrl(pack: { repository: string; commit: string }, rule: SigmaRule): string {
  return `${pack.repository}/blob/${pack.commit}/${rule.file.slice(COMMUNITY_PREFIX.length)}`;
}

/** The human form of `rules show`: every line escaped (rule files come from anyone). */
function showText(row: CatalogRow, rule: SigmaRule | undefined): string {
  const lines: string[] = [row.title, ''];
  const field = (name: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') lines.push(`${`${name}:`.padEnd(16)}${value}`);
  };
  field('id', row.id);
  field('source', row.source === 'community' ? 'community (SigmaHQ)' : 'builtin (deminer)');
  field('kind', row.kind);
  field('status', row.status);
  field('level', row.level);
  field('log source', row.logsource);
  field('ATT&CK', [...row.techniques, ...tacticsOf(row).filter((t) => t !== '(none)')].join(', '));
  field('tags', row.tags.join(', '));
  field('author', row.author);
  if (rule?.description) field('description', rule.description.replace(/\s+/g, ' ').trim());
  if (rule && rule.references.length > 0) {
    lines.push('references:');
    for (const r of rule.references) lines.push(`  - ${r}`);
  }
  if (rule && rule.falsepositives.length > 0) {
    lines.push('false positives:');
    for (const f of rule.falsepositives) lines.push(`  - ${f}`);
  }
  field(rule ? 'file' : 'declared by', row.location);
  if (row.source === 'community') {
    const pack = readCommunityPack();
    if (rule) field('rule URL', ruleUrl(pack, rule));
    field('licence', COMMUNITY_ATTRIBUTION.license);
    field(
      'attribution',
      `${rule?.author ? `by ${rule.author}, ` : ''}${COMMUNITY_ATTRIBUTION.origin} at commit ${pack.commit}`,
    );
  }
  if (rule) {
    lines.push('');
    lines.push(...stringify(sigmaDetail(rule), { lineWidth: 0 }).trimEnd().split('\n'));
  }
  return `${lines.map(escapeControls).join('\n')}\n`;
}

export const registerRules: RegisterCommand = (program: Command, run) => {
  const rules = program
    .command('rules')
    .description(
      "The rule catalog: deminer's detectors, its built-in Sigma rules and SigmaHQ's community set (opt-in for hunt)",
    );

  const list = rules
    .command('list')
    .description('List rules, one per line')
    .option('--source <source>', `which rules: ${SOURCES.join('|')}`, 'all')
    .option('--level <levels>', `only these levels, comma-separated: ${LEVELS.join('|')}`)
    .option(
      '--tag <tag>',
      'only rules with this tag, e.g. attack.t1496 or t1496 (repeatable: any of them)',
      collect,
      [],
    );
  addOutputOptions(list, LIST_FORMATS, 'table');
  list.action(
    run(async (opts: ListOptions) => {
      const format = parseChoice(opts.format, LIST_FORMATS, '--format');
      const source = parseChoice(opts.source, SOURCES, '--source');
      const levels = opts.level === undefined ? undefined : new Set(splitList(opts.level));
      for (const l of levels ?? []) parseChoice(l, LEVELS, '--level');
      const tags = opts.tag.flatMap(splitList);
      const cat = buildCatalog(source, false);
      const rows = cat.rows.filter(
        (r) => (!levels || levelMatches(r, levels)) && (tags.length === 0 || tagMatches(r, tags)),
      );
      return withResultOut(opts, async (out) => {
        if (format === 'json')
          out.write(`${JSON.stringify({ rules: rows.map(publicRow), count: rows.length }, null, 2)}\n`);
        else if (format === 'jsonl') for (const r of rows) out.write(`${JSON.stringify(publicRow(r))}\n`);
        else {
          const t = new TextTable({
            head: ['id', 'source', 'level', 'status', 'log source', 'title'],
            color: out.color,
          });
          for (const r of rows)
            t.push([r.id, r.source, r.level, r.status ?? '', r.logsource ?? r.kind, r.title]);
          out.write(`${t.toString()}\n`);
        }
        if (opts.summary !== false) out.notes(format !== 'table').write(`${rows.length} rule(s)\n`);
        return EXIT.OK;
      });
    }),
  );

  const show = rules
    .command('show')
    .description(
      'Show one rule: metadata, log source, detection, ATT&CK tags, author, references, licence, file:line',
    )
    .argument('<id>', 'rule id (a Sigma id or a deminer rule id)')
    .option('--source <source>', `where to look: ${SOURCES.join('|')}`, 'all');
  addOutputOptions(show, SHOW_FORMATS, 'text');
  show.action(
    run(async (id: string, opts: OutputCliOptions & { source: string }) => {
      const format = parseChoice(opts.format, SHOW_FORMATS, '--format');
      const source = parseChoice(opts.source, SOURCES, '--source');
      const cat = buildCatalog(source, false);
      const hits = cat.rows.filter((r) => r.id === id);
      if (hits.length === 0)
        throw new UsageError(
          'RULE_UNKNOWN',
          `no rule with id "${id.slice(0, 100)}" among the ${source === 'all' ? '' : `${source} `}rules (deminer rules list shows them)`,
        );
      return withResultOut(opts, async (out) => {
        if (format === 'json') {
          const items = hits.map((h) => showJson(h, cat.sigma.get(h)));
          out.write(`${JSON.stringify(items.length === 1 ? items[0] : items, null, 2)}\n`);
        } else out.write(hits.map((h) => showText(h, cat.sigma.get(h))).join('\n'));
        return EXIT.OK;
      });
    }),
  );

  const stats = rules
    .command('stats')
    .description(
      'Counts by source, level, status, log source and ATT&CK tactic; rules loaded, runnable and refused (and why)',
    )
    .option('--source <source>', `which rules: ${SOURCES.join('|')}`, 'all');
  addOutputOptions(stats, STATS_FORMATS, 'table');
  stats.action(
    run(async (opts: OutputCliOptions & { source: string }) => {
      const format = parseChoice(opts.format, STATS_FORMATS, '--format');
      const source = parseChoice(opts.source, SOURCES, '--source');
      const started = performance.now();
      const cat = buildCatalog(source, true);
      const sets: Record<string, unknown> = {};
      for (const [name, s] of Object.entries(cat.sets)) {
        sets[name] = {
          files: s.files,
          loaded: s.rules.length,
          runnable: s.runnable ?? 0,
          unmapped: s.unmapped ?? 0,
          refused_at_load: s.loadIssues.length,
          refused_at_compile: s.compileIssues?.length ?? 0,
          refused_by_code: issueCounts([...s.loadIssues, ...(s.compileIssues ?? [])]),
        };
      }
      const report = {
        total: cat.rows.length,
        detector_rules: cat.detectorRules,
        sigma: sets,
        by_source: countBy(cat.rows, (r) => [r.source]),
        by_kind: countBy(cat.rows, (r) => [r.kind]),
        by_level: countBy(cat.rows, (r) => [r.level]),
        by_status: countBy(cat.rows, (r) => [r.status ?? '(none)']),
        by_logsource: countBy(cat.rows, (r) => [r.logsource ?? '(detector)']),
        by_tactic: countBy(cat.rows, tacticsOf),
      };
      const ms = Math.round(performance.now() - started);
      return withResultOut(opts, async (out) => {
        if (format === 'json') out.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          const section = (title: string, counts: Record<string, unknown>): void => {
            const t = new TextTable({ head: [title, 'rules'], color: out.color });
            for (const [k, v] of Object.entries(counts))
              t.push([k, typeof v === 'number' ? v : JSON.stringify(v)]);
            out.write(`${t.toString()}\n`);
          };
          section('source', report.by_source);
          section('kind', report.by_kind);
          for (const [name, s] of Object.entries(sets))
            section(`sigma ${name}`, s as Record<string, unknown>);
          section('level', report.by_level);
          section('status', report.by_status);
          section('ATT&CK tactic', report.by_tactic);
          section('log source', report.by_logsource);
        }
        if (opts.summary !== false)
          out
            .notes(format !== 'table')
            .write(`${report.total} rule(s) in the catalog; loaded and compiled in ${ms} ms\n`);
        return EXIT.OK;
      });
    }),
  );
};

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}
