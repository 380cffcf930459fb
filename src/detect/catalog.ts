import { DeminerError } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import { severityRank } from '../core/severity.ts';
import type { DetectorInfo, RuleDeclaration } from '../core/stages.ts';
import { hostDetector } from './host/registry.ts';
import { HostBaselineDetector } from './host-baseline/index.ts';
import { networkLists } from './network/lists.ts';
import { NetworkDetector } from './network/network-detector.ts';
import { IntelMatchDetector } from './pool-match/intel-match-detector.ts';
import { buildEngine } from './sigma/index.ts';
import { WalletDetector } from './wallet/wallet-detector.ts';

/**
 * The rule catalog: every rule the detectors declare, in one list that docs,
 * `deminer rules` and the console read. Built from the detectors' own
 * declarations, so it cannot drift from what they emit (their conformance
 * tests hold them to the declarations, see `declarationProblems`).
 */
export interface CatalogEntry extends RuleDeclaration {
  /** The detectors that declare it (one, unless several share a rule). */
  detectors: string[];
}

const TECHNIQUE_RE = /^T\d{4}(?:\.\d{3})?$/;

/** What is wrong with a declaration itself, if anything. */
export function declarationProblem(r: RuleDeclaration): string | undefined {
  if (r.id.trim() === '') return 'empty rule id';
  if (r.name.trim() === '') return `${r.id}: empty name`;
  if (r.triage.trim() === '') return `${r.id}: empty triage note`;
  if (severityRank(r.severity.min) > severityRank(r.severity.max))
    return `${r.id}: severity range ${r.severity.min}..${r.severity.max} is upside down`;
  const bad = r.techniques.find((t) => !TECHNIQUE_RE.test(t));
  if (bad !== undefined) return `${r.id}: "${bad}" is not an ATT&CK technique id`;
  return undefined;
}

function sameDeclaration(a: RuleDeclaration, b: RuleDeclaration): boolean {
  const techniques = (r: RuleDeclaration): string => [...new Set(r.techniques)].sort().join(',');
  return (
    a.id === b.id &&
    a.name === b.name &&
    a.ruleset === b.ruleset &&
    a.severity.min === b.severity.min &&
    a.severity.max === b.severity.max &&
    a.triage === b.triage &&
    techniques(a) === techniques(b)
  );
}

/**
 * One entry per rule id, builtin rules first, then by id. A rule declared by
 * two detectors must be declared the same way by both; anything else is a
 * programming error, refused with RULE_CONFLICT (or RULE_INVALID for a
 * declaration that is wrong on its own).
 */
export function ruleCatalog(detectors: readonly DetectorInfo[]): CatalogEntry[] {
  const byId = new Map<string, CatalogEntry>();
  for (const d of detectors) {
    for (const r of d.rules) {
      const problem = declarationProblem(r);
      if (problem) throw new DeminerError('RULE_INVALID', problem, { location: `detector ${d.id}` });
      const known = byId.get(r.id);
      if (!known) {
        byId.set(r.id, {
          id: r.id,
          name: r.name,
          ruleset: r.ruleset,
          severity: { ...r.severity },
          techniques: [...new Set(r.techniques)].sort(),
          triage: r.triage,
          detectors: [d.id],
        });
      } else if (!sameDeclaration(known, r)) {
        throw new DeminerError(
          'RULE_CONFLICT',
          `rule ${r.id} is declared differently by ${known.detectors.join(', ')} and ${d.id}`,
        );
      } else if (!known.detectors.includes(d.id)) known.detectors.push(d.id);
    }
  }
  return [...byId.values()].sort(
    (a, b) => a.ruleset.localeCompare(b.ruleset) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/**
 * Findings a detector made that its declarations do not cover: an id it
 * did not declare, a name or ruleset other than declared, a severity
 * outside the declared range. Empty when all is well; each conformance test
 * asserts that.
 */
export function declarationProblems(
  findings: readonly Finding[],
  rules: readonly RuleDeclaration[],
): string[] {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const problems = new Set<string>();
  for (const f of findings) {
    const r = byId.get(f.rule.id);
    if (!r) {
      problems.add(`${f.rule.id}: emitted but not declared`);
      continue;
    }
    if (f.rule.name !== r.name) problems.add(`${f.rule.id}: named "${f.rule.name}", declared "${r.name}"`);
    if (f.rule.ruleset !== r.ruleset)
      problems.add(`${f.rule.id}: ruleset ${f.rule.ruleset}, declared ${r.ruleset}`);
    const rank = severityRank(f.severity);
    if (rank < severityRank(r.severity.min) || rank > severityRank(r.severity.max))
      problems.add(
        `${f.rule.id}: severity ${f.severity} outside the declared ${r.severity.min}..${r.severity.max}`,
      );
  }
  return [...problems];
}

/**
 * The detectors shipped with deminer, for the catalog of built-in rules
 * (docs/rules.md): the host scanner, the pool checks and the wallet check over
 * event logs, the network rules and the built-in Sigma rules.
 */
export function builtinDetectors(): DetectorInfo[] {
  return [
    hostDetector,
    new HostBaselineDetector(),
    new IntelMatchDetector(),
    new WalletDetector(),
    new NetworkDetector({ lists: networkLists() }),
    buildEngine({ builtin: true }).engine,
  ];
}

/** Table cells: pipes and asterisks would end the cell or start emphasis. */
function cell(text: string): string {
  return text.replace(/[|*]/g, '\\$&').replace(/\s*\n\s*/g, ' ');
}

function severityText(r: RuleDeclaration): string {
  return r.severity.min === r.severity.max ? r.severity.min : `${r.severity.min}–${r.severity.max}`;
}

/**
 * The catalog as Markdown: one table per detector, in the order given
 * (docs/rules.md is this for `builtinDetectors()`, written by scripts/rules-doc.ts).
 */
export function catalogMarkdown(detectors: readonly DetectorInfo[]): string {
  const entries = ruleCatalog(detectors);
  const out: string[] = [
    '# Rules',
    '',
    'Every rule deminer can report, as its detectors declare them (generated by',
    '`node --import tsx scripts/rules-doc.ts` from `src/detect/catalog.ts`; a test fails',
    'when this file is out of date). Severity is the range a finding of the rule can',
    'carry; ATT&CK lists the techniques it is tagged with; triage is what to look at first.',
    '',
  ];
  for (const d of detectors) {
    const mine = entries.filter((e) => e.detectors[0] === d.id);
    if (mine.length === 0) continue;
    out.push(`## ${d.id}`, '', cell(d.description), '');
    out.push('| Rule | Name | Severity | ATT&CK | Triage |', '|---|---|---|---|---|');
    for (const e of mine)
      out.push(
        `| \`${cell(e.id)}\` | ${cell(e.name)} | ${severityText(e)} | ${e.techniques.join(', ')} | ${cell(e.triage)} |`,
      );
    out.push('');
  }
  return out.join('\n');
}
