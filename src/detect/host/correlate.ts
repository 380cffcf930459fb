import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import { canonicalHostName } from '../../core/host-identity.ts';
import type { HostSnapshot, ProcessInfo } from '../../core/host-snapshot.ts';
import { ecsProcess } from '../../core/process-fields.ts';
import type { Severity } from '../../core/severity.ts';
import { atLeast, maxSeverity } from '../../core/severity.ts';
import { PERSISTENCE_TECHNIQUE } from './persistence/index.ts';
import { PROCESS_RULES, persistenceRule } from './rules.ts';
import type { AnalyticOutput, Signal } from './types.ts';

/** Evidence points → severity. Tuned so one conclusive signal (a stratum URL) is high, and a
 *  masquerade plus a hidden binary plus CPU burn is critical, while one weak signal stays low. */
export function severityForScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 5.5) return 'high';
  if (score >= 3) return 'medium';
  return 'low';
}

/** Processes whose evidence adds up to less than this are not reported (except allow-list audits). */
const MIN_PROCESS_SCORE = 1;

const NEXT_STEP: Record<Severity, string> = {
  critical:
    'Isolate the host now, keep the binary and memory for forensics, then kill the process and remove its persistence.',
  high: 'Confirm with the evidence below, isolate the host, collect the binary, then kill the process and remove its persistence.',
  medium: 'Check who started this process and why; compare with the host owner before acting.',
  low: 'Review when convenient; on its own this is usually benign.',
};

function mergeSignals(signals: Signal[]): Signal[] {
  const best = new Map<string, Signal>();
  for (const s of signals) {
    const prev = best.get(s.id);
    if (!prev || s.weight > prev.weight) best.set(s.id, s);
  }
  return [...best.values()].sort((a, b) => b.weight - a.weight);
}

/**
 * Behaviour weighed with provenance: a process that behaves like a miner and
 * runs a binary no package owns (or one deleted since it started) is what a
 * careful attacker leaves, so the two together are high.
 */
function withProvenance(signals: Signal[], p: ProcessInfo): Signal[] {
  const b = signals.find((s) => s.id === 'behaviour.miner_like');
  if (!b || !(p.packaged === false || p.exeDeleted)) return signals;
  // This says what the masquerade analytic's weaker "no package owns it" says, and more: once is enough.
  return mergeSignals([
    ...signals.filter((s) => s.id !== 'masquerade.unpackaged_executable'),
    {
      id: 'behaviour.unpackaged_binary',
      category: 'behaviour',
      weight: 2.5,
      techniques: ['T1496'],
      text: p.exeDeleted
        ? 'and its binary was deleted after it started'
        : 'and no installed package owns its binary',
      evidence: { exe: p.exe, packaged: p.packaged ?? null, exe_deleted: p.exeDeleted },
    },
  ]);
}

/**
 * Behaviour and CPU alone never make a package-owned program (a database
 * server under load, a compiler) more than medium: without anything else
 * suspicious about it, its owner is asked, the host is not isolated.
 */
function packagedBehaviourCap(severity: Severity, signals: Signal[], p: ProcessInfo): Severity {
  if (p.packaged !== true || !atLeast(severity, 'high')) return severity;
  const onlyLoad = signals.every((s) => s.category === 'behaviour' || s.category === 'cpu');
  return onlyLoad ? 'medium' : severity;
}

function processSubject(p: ProcessInfo): string[] {
  return [p.sha256 ?? p.exe ?? '', p.name, p.containerId ?? ''];
}

/**
 * Turns analytic outputs into findings: one per process (its signals combined,
 * severity rising with the evidence) and one per suspicious persistence line.
 * A persistence line that names the executable of a flagged process raises both.
 */
export function correlate(snapshot: HostSnapshot, outputs: readonly AnalyticOutput[]): Finding[] {
  const hostname = snapshot.host.name;
  const host = canonicalHostName(hostname);
  const byPid = new Map<number, Signal[]>();
  const byLine = new Map<
    string,
    { path: string; line: number; content: string; refs: string[]; kind: string; signals: Signal[] }
  >();
  const kindOf = new Map(snapshot.files.map((f) => [f.path, f.kind]));
  for (const o of outputs) {
    if (o.kind === 'process') {
      const list = byPid.get(o.pid) ?? [];
      list.push(o.signal);
      byPid.set(o.pid, list);
    } else {
      const key = `${o.path}:${o.line}`;
      const entry = byLine.get(key) ?? {
        path: o.path,
        line: o.line,
        content: o.content,
        refs: o.refs,
        kind: kindOf.get(o.path) ?? 'file',
        signals: [],
      };
      entry.signals.push(o.signal);
      byLine.set(key, entry);
    }
  }
  const processByPid = new Map(snapshot.processes.map((p) => [p.pid, p]));
  // Link persistence lines to the processes whose executables they name.
  const exeToPids = new Map<string, number[]>();
  for (const p of snapshot.processes) {
    if (!p.exe) continue;
    const list = exeToPids.get(p.exe) ?? [];
    list.push(p.pid);
    exeToPids.set(p.exe, list);
  }
  const linkedPids = new Map<string, number[]>();
  for (const [key, entry] of byLine) {
    const pids = [...new Set(entry.refs.flatMap((r) => exeToPids.get(r) ?? []))].filter((pid) =>
      byPid.has(pid),
    );
    if (pids.length === 0) continue;
    linkedPids.set(key, pids);
    for (const pid of pids) {
      byPid.get(pid)!.push({
        id: 'persistence.restarts_process',
        category: 'persistence',
        weight: 2,
        techniques: [PERSISTENCE_TECHNIQUE[entry.kind] ?? 'T1547'],
        text: `is (re)started by ${entry.path}:${entry.line}`,
        evidence: { file: entry.path, line: entry.line, content: entry.content },
      });
    }
  }

  const findings: Finding[] = [];
  const processSeverity = new Map<number, Severity>();
  for (const [pid, raw] of byPid) {
    const p = processByPid.get(pid);
    if (!p) continue;
    const signals = withProvenance(mergeSignals(raw), p);
    const score = signals.reduce((a, s) => a + s.weight, 0);
    const audit = signals.some((s) => s.category === 'allowlist');
    if (score < MIN_PROCESS_SCORE && !audit) continue;
    const { rule } =
      PROCESS_RULES.find(({ category }) =>
        signals.some((s) => s.category === category && (s.weight >= 2 || category === 'allowlist')),
      ) ?? PROCESS_RULES.find(({ category }) => signals.some((s) => s.category === category))!;
    const severity = packagedBehaviourCap(severityForScore(score), signals, p);
    processSeverity.set(pid, severity);
    const top = signals.filter((s) => s.category !== 'allowlist' || signals.length === 1).slice(0, 3);
    findings.push(
      makeFinding({
        rule: { id: rule.id, name: rule.name, ruleset: rule.ruleset },
        severity,
        techniques: signals.flatMap((s) => s.techniques),
        host,
        hostname,
        subject: processSubject(p),
        timestamp: snapshot.takenAt,
        process: ecsProcess(p),
        ...destinationOf(signals),
        message: `${p.name} (pid ${pid}) ${top.map((s) => s.text).join('; ')}.`,
        evidence: {
          score: Math.round(score * 10) / 10,
          signals: signals.map((s) => ({
            id: s.id,
            weight: s.weight,
            text: s.text,
            ...(s.evidence ? { evidence: s.evidence } : {}),
          })),
          cpu: { cores: p.cpuCores, samples: p.cpuSeries },
          rss_bytes: p.rssBytes,
          threads: p.threads,
          ...(p.containerId ? { container_id: p.containerId } : {}),
          ...(p.netns ? { netns: p.netns } : {}),
          ...(p.packaged !== undefined
            ? { packaged: p.packaged, ...(p.packageName ? { package: p.packageName } : {}) }
            : {}),
          exe_deleted: p.exeDeleted,
          next_step: NEXT_STEP[severity],
        },
      }),
    );
  }
  for (const [key, entry] of byLine) {
    const signals = mergeSignals(entry.signals);
    const linked = linkedPids.get(key) ?? [];
    const score = signals.reduce((a, s) => a + s.weight, 0) + (linked.length > 0 ? 2 : 0);
    // Whatever keeps a high-severity process coming back is itself high.
    const linkedHigh = linked.some((pid) => atLeast(processSeverity.get(pid) ?? 'low', 'high'));
    const severity = linkedHigh ? maxSeverity(severityForScore(score), 'high') : severityForScore(score);
    const rule = persistenceRule(entry.kind);
    findings.push(
      makeFinding({
        rule: { id: rule.id, name: rule.name, ruleset: rule.ruleset },
        severity,
        techniques: signals.flatMap((s) => s.techniques),
        host,
        hostname,
        subject: [entry.path, entry.content],
        timestamp: snapshot.takenAt,
        message: `${entry.path}:${entry.line} ${signals
          .slice(0, 2)
          .map((s) => s.text)
          .join('; ')}${linked.length ? ` — and it starts running process ${linked.join(', ')}` : ''}.`,
        evidence: {
          file: entry.path,
          line: entry.line,
          content: entry.content,
          score: Math.round(score * 10) / 10,
          signals: signals.map((s) => ({ id: s.id, weight: s.weight, text: s.text })),
          ...(linked.length ? { running_pids: linked } : {}),
          next_step:
            severity === 'low'
              ? NEXT_STEP.low
              : `Remove or disable this entry after collecting it as evidence (${entry.path}:${entry.line}), then remove what it runs.`,
        },
      }),
    );
  }
  return findings;
}

function destinationOf(signals: Signal[]): Pick<Finding, 'destination'> {
  for (const s of signals) {
    const d = s.evidence?.['destination'] as { ip?: string; port?: number } | undefined;
    if (d?.ip) return { destination: { ip: d.ip, ...(d.port !== undefined ? { port: d.port } : {}) } };
  }
  return {};
}
