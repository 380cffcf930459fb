import type { ParseIssue } from '../../core/errors.ts';
import { packagePath } from '../../core/paths.ts';
import { SigmaCorrelations, SigmaEngine } from './engine.ts';
import type { LoadedRules } from './load-rules.ts';
import { loadRules } from './load-rules.ts';
import { loadLogsourceMap } from './logsource-map.ts';
import type { SigmaRule } from './rule.ts';

export type { EngineStats, SplitMatches } from './engine.ts';
export { SigmaCorrelations, SigmaEngine, sigmaRuleDeclaration } from './engine.ts';
export type { LoadedRules } from './load-rules.ts';
export { loadRules, parseRuleText } from './load-rules.ts';
export { loadLogsourceMap } from './logsource-map.ts';

/** deminer's own rules, shipped in the package. */
export const BUILTIN_RULES_DIR = packagePath('rules');

export interface EngineBuild {
  engine: SigmaEngine;
  /** Rule files that could not be loaded or compiled (each skipped). */
  issues: ParseIssue[];
  files: number;
}

/** The engine for loaded rules, with the shipped logsource mapping. */
export function sigmaEngineOf(rules: readonly SigmaRule[]): SigmaEngine {
  return new SigmaEngine(rules, { logsources: loadLogsourceMap() });
}

/** The correlations of loaded rules, for pipelines that match in workers (`SigmaEngine.observeSplit`). */
export function correlationsOf(rules: readonly SigmaRule[]): SigmaCorrelations {
  return new SigmaCorrelations(rules);
}

export interface RuleSelection {
  /** Rule files or folders beside (or instead of) the built-in rules. */
  ruleDirs?: readonly string[];
  /** The shipped rules; default true. */
  builtin?: boolean;
}

/** Loads the built-in rules (unless `builtin` is false) plus any rule files or folders. */
export function loadSigmaRules(opts: RuleSelection = {}): LoadedRules {
  return loadRules([...(opts.builtin === false ? [] : [BUILTIN_RULES_DIR]), ...(opts.ruleDirs ?? [])]);
}

/** Loads rules as `loadSigmaRules` does and compiles them. */
export function buildEngine(opts: RuleSelection = {}): EngineBuild {
  const loaded = loadSigmaRules(opts);
  const engine = sigmaEngineOf(loaded.rules);
  return { engine, issues: [...loaded.issues, ...engine.issues], files: loaded.files };
}
