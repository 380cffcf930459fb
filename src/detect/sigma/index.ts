import type { ParseIssue } from '../../core/errors.ts';
import { packagePath } from '../../core/paths.ts';
import { SigmaEngine } from './engine.ts';
import { loadRules } from './load-rules.ts';
import { loadLogsourceMap } from './logsource-map.ts';

export { SigmaEngine } from './engine.ts';
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

/** Loads the built-in rules (unless `builtin` is false) plus any rule files or folders, and compiles them. */
export function buildEngine(opts: { ruleDirs?: readonly string[]; builtin?: boolean } = {}): EngineBuild {
  const dirs = [...(opts.builtin === false ? [] : [BUILTIN_RULES_DIR]), ...(opts.ruleDirs ?? [])];
  const loaded = loadRules(dirs);
  const engine = new SigmaEngine(loaded.rules, { logsources: loadLogsourceMap() });
  return { engine, issues: [...loaded.issues, ...engine.issues], files: loaded.files };
}
