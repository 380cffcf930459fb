import type { Finding } from '../core/finding.ts';
import { severityRank } from '../core/severity.ts';
import { escapeControls } from './safe-text.ts';

/** The counters of a one-shot run that its summary line reports (the pipeline's hunt stats fit). */
export interface SummaryStats {
  files: number;
  filesByKind: Readonly<Record<string, number>>;
  /** Files in walked folders that no input kind recognised. */
  unrecognized: number;
  events: number;
  /** Events left out by --from/--to. */
  outOfRange: number;
  /** Input problems met, printed or not. */
  issues: number;
  ms: number;
  /** Earliest and latest event time read (ISO-8601), when any event had one. */
  first?: string;
  last?: string;
  /** Distinct source hosts of network observations (at most the cap the pipeline keeps). */
  hosts?: number;
  /** Source counters: packets and flows of captures are reported. */
  sources?: Readonly<Record<string, number>>;
}

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

/** The lines printed after a hunt: findings by rule, then what was read and how fast. */
export function renderSummary(rules: readonly RuleSummary[], stats: SummaryStats, findings: number): string {
  const lines: string[] = [];
  if (rules.length > 0) {
    lines.push('Findings by rule:');
    const w = Math.max(...rules.map((r) => String(r.count).length));
    for (const r of rules)
      lines.push(
        `  ${String(r.count).padStart(w)}  ${r.severity.padEnd(8)} ${escapeControls(r.name)}${r.hosts > 1 ? ` (${r.hosts} hosts)` : ''}`,
      );
  }
  const kinds = Object.entries(stats.filesByKind)
    .map(([k, n]) => `${n} ${escapeControls(k)}`)
    .join(', ');
  const rate = stats.ms > 0 ? Math.round((stats.events / stats.ms) * 1000) : 0;
  lines.push(
    `Hunted ${stats.files} file(s)${kinds ? ` (${kinds})` : ''}, ${stats.events} events in ${(stats.ms / 1000).toFixed(1)} s (${rate}/s): ${findings} finding(s)` +
      `${stats.outOfRange ? `, ${stats.outOfRange} events left out by --from/--to or event ids` : ''}` +
      `${stats.unrecognized ? `, ${stats.unrecognized} file(s) of no known kind skipped` : ''}` +
      `${stats.issues ? `, ${stats.issues} input problem(s)` : ''}.`,
  );
  const net: string[] = [];
  const packets = stats.sources?.['packets'];
  if (packets) net.push(`${packets} packets`);
  const flows = stats.sources?.['flows'];
  if (flows) net.push(`${flows} flows`);
  if (stats.hosts) net.push(`${stats.hosts} source host(s)`);
  if (net.length > 0) lines.push(`Network: ${net.join(', ')}.`);
  if (stats.first && stats.last) lines.push(`Time span: ${stats.first} → ${stats.last}.`);
  return `${lines.join('\n')}\n`;
}
