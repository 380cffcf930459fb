import type { Finding } from '../core/finding.ts';
import { severityRank } from '../core/severity.ts';
import type { HuntStats } from './hunt.ts';

export interface RuleSummary {
  id: string;
  name: string;
  severity: Finding['severity'];
  count: number;
  hosts: number;
}

/** Findings per rule, most severe and most frequent first. */
export function summarizeByRule(findings: readonly Finding[]): RuleSummary[] {
  const m = new Map<string, RuleSummary & { hostSet: Set<string> }>();
  for (const f of findings) {
    let s = m.get(f.rule.id);
    if (!s) {
      s = { id: f.rule.id, name: f.rule.name, severity: f.severity, count: 0, hosts: 0, hostSet: new Set() };
      m.set(f.rule.id, s);
    }
    s.count++;
    s.hostSet.add(f.host.name);
    if (severityRank(f.severity) > severityRank(s.severity)) s.severity = f.severity;
  }
  return [...m.values()]
    .map(({ hostSet, ...s }) => ({ ...s, hosts: hostSet.size }))
    .sort(
      (a, b) =>
        severityRank(b.severity) - severityRank(a.severity) ||
        b.count - a.count ||
        a.name.localeCompare(b.name),
    );
}

export function renderSummary(rules: readonly RuleSummary[], stats: HuntStats, findings: number): string {
  const lines: string[] = [];
  if (rules.length > 0) {
    lines.push('Findings by rule:');
    const w = Math.max(...rules.map((r) => String(r.count).length));
    for (const r of rules)
      lines.push(
        `  ${String(r.count).padStart(w)}  ${r.severity.padEnd(8)} ${r.name}${r.hosts > 1 ? ` (${r.hosts} hosts)` : ''}`,
      );
  }
  const kinds = Object.entries(stats.filesByKind)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const rate = stats.ms > 0 ? Math.round((stats.events / stats.ms) * 1000) : 0;
  lines.push(
    `Hunted ${stats.files} file(s)${kinds ? ` (${kinds})` : ''}, ${stats.events} events in ${(stats.ms / 1000).toFixed(1)} s (${rate}/s): ${findings} finding(s)` +
      `${stats.outOfRange ? `, ${stats.outOfRange} events outside --from/--to` : ''}` +
      `${stats.unrecognized ? `, ${stats.unrecognized} file(s) of no known kind skipped` : ''}` +
      `${stats.issues ? `, ${stats.issues} input problem(s)` : ''}.`,
  );
  return `${lines.join('\n')}\n`;
}
