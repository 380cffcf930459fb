/** Sigma rules as loaded and validated (before compilation). */
export interface LogSource {
  product?: string;
  category?: string;
  service?: string;
}

interface RuleCommon {
  /** `file:line` of the rule's document, for messages. */
  location: string;
  file: string;
  id: string;
  /** Sigma v2 `name`, which correlation rules may refer to. */
  name?: string;
  title: string;
  description?: string;
  status?: string;
  level?: string;
  author?: string;
  tags: string[];
  falsepositives: string[];
  references: string[];
  /** deminer's own rules carry a triage note: what to look at first. */
  triage?: string;
  /**
   * deminer's own: the built-in detector rule that reports what this rule
   * matches (the pool rules written from the pool matcher's list); `hunt`,
   * which runs that detector, skips this rule so that one sighting gives one finding.
   */
  coveredBy?: string;
}

export interface DetectionRule extends RuleCommon {
  kind: 'detection';
  logsource: LogSource;
  /** Search identifiers → their raw YAML value. */
  detection: Record<string, unknown>;
  /** The conditions (a list is OR-ed); an aggregation after `|` is split off into `aggregation`. */
  conditions: string[];
  aggregation?: string;
  timeframe?: string;
  /** `file:line` per search identifier, so compile errors point at the right place. */
  lines: Record<string, string>;
}

export const CORRELATION_TYPES = ['event_count', 'value_count', 'temporal', 'temporal_ordered'] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export interface CountCondition {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
  neq?: number;
}

export interface CorrelationRule extends RuleCommon {
  kind: 'correlation';
  type: CorrelationType;
  /** ids or names of the rules it correlates. */
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  condition: CountCondition;
  /** value_count: the field whose distinct values are counted. */
  field?: string;
  /** Whether the correlated rules also report their own matches. */
  generate: boolean;
  /** alias → (rule id or name → field in that rule's events). */
  aliases: Record<string, Record<string, string>>;
}

export type SigmaRule = DetectionRule | CorrelationRule;

/** ATT&CK technique ids from `attack.t1496`, `attack.t1036.005` tags. */
export function techniquesOf(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const m = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t);
    if (m) out.push(m[1]!.toUpperCase());
  }
  return out;
}
