/** Finding severities, lowest first (DESIGN.md §4). */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3, critical: 4 };

export function severityRank(s: Severity): number {
  return RANK[s];
}

export function isSeverity(s: string): s is Severity {
  return Object.hasOwn(RANK, s);
}

export function atLeast(s: Severity, min: Severity): boolean {
  return RANK[s] >= RANK[min];
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Sigma levels: `informational` has no finding severity of its own and reports as `low`. */
export function fromSigmaLevel(level: string | undefined): Severity {
  if (level === 'informational') return 'low';
  if (level && isSeverity(level)) return level;
  return 'medium';
}
