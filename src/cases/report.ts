import { escapeControls } from '../outputs/safe-text.ts';
import type { IncidentEvent, IncidentRecord } from '../store/incident-types.ts';
import type { MetricSample, Store, StoredFinding } from '../store/types.ts';
import type { CaseEngine } from './engine.ts';
import {
  computeImpact,
  formatMoney,
  formatNumber,
  formatSeconds,
  type Impact,
  type ImpactSettings,
  impactSettings,
  impactWindow,
  MAX_PROCESSES,
  processSubject,
} from './impact.ts';
import type { SlaState } from './sla.ts';

/**
 * The incident report: what management asks for, from what the store
 * holds. The miner's cost is computed from the agent's samples
 * (./impact.ts); what is not measured says so rather than show a number.
 * Markdown here, HTML in ./report-html.ts, JSON is the object itself.
 */

/** A piece of evidence as the report lists it (filled by the forensics layer through `ReportOptions.evidence`). */
export interface ReportEvidence {
  id: string;
  kind: string;
  sha256: string;
  bytes: number;
  collected_at: string;
  host: string;
}

/** Evidence items listed in one report. */
const MAX_EVIDENCE = 1000;
/** Metric points read per process: ten pages of the store's largest (listMetrics' bound). */
const METRIC_PAGE = 10_000;
const METRIC_PAGES = 10;
/** When the fleet's interval is not stored: the agent's own default (src/agent/agent.ts DEFAULT_INTERVAL_MS). */
const DEFAULT_INTERVAL_S = 10;

export interface ReportOptions {
  /** The cost model (default: the documented defaults). */
  impact?: ImpactSettings;
  /** The sample interval when the store holds no fleet configuration (the server's default agent config). */
  defaultIntervalS?: number;
  /** The sample interval, already read (the monthly summary reads it once, not per incident). */
  intervalS?: number;
  /** The host's core count when something knows it (the server: what the host's agent reports). */
  hostCores?: (hostName: string) => number | undefined | Promise<number | undefined>;
  /** The host's measured marginal watts per busy core (its agent's RAPL fit), when it has one. */
  hostWattsPerCore?: (hostName: string) => number | undefined | Promise<number | undefined>;
  /**
   * The evidence collected for the incident (the forensics layer fills it):
   * the items, or a provider asked with the incident's id; absent: this
   * server collects none, and the report says so.
   */
  evidence?: readonly ReportEvidence[] | ((incidentId: string) => Promise<readonly ReportEvidence[]>);
}

export interface IncidentReport {
  generated_at: string;
  incident: {
    id: string;
    title: string;
    host: string | null;
    severity: string;
    phase: string;
    opened_at: string;
    opened_by: string;
    assignee: string | null;
    closed_at: string | null;
    campaign: string | null;
    links: { title: string; url: string }[];
    root_cause: string | null;
    lessons: string | null;
  };
  summary: string;
  hosts: string[];
  timeline: { at: string; actor: string; kind: string; text: string }[];
  findings: {
    fingerprint: string;
    rule_id: string;
    rule_name: string;
    severity: string;
    first_seen: string | null;
    last_seen: string | null;
    count: number | null;
    message: string;
  }[];
  techniques: string[];
  indicators: {
    wallets: { address: string; coin: string | null }[];
    pools: string[];
    hashes: string[];
    domains: string[];
  };
  campaign: {
    id: string;
    incidents: { id: string; host: string | null; phase: string }[];
    hosts: string[];
  } | null;
  sla: SlaState;
  impact: Impact;
  /** Evidence collected; `evidence_collected` false: this server has no evidence collection. */
  evidence: ReportEvidence[];
  evidence_collected: boolean;
  not_measured: string[];
}

function eventText(kind: string, d: Record<string, unknown>): string {
  const s = (v: unknown): string => (v === null || v === undefined ? '—' : String(v));
  switch (kind) {
    case 'opened':
      return `Opened (${s(d.opened_by)}): ${s(d.title)}${d.note ? ` — ${s(d.note)}` : ''}`;
    case 'finding':
      return `Finding joined: [${s(d.severity)}] ${s(d.rule_name)} (${s(d.rule_id)}) — ${s(d.message)}`;
    case 'note':
      return `Note: ${s(d.text)}`;
    case 'phase':
      return `Phase ${s(d.from)} → ${s(d.to)}${d.note ? ` — ${s(d.note)}` : ''}`;
    case 'assignment':
      return `Assigned ${s(d.from)} → ${s(d.to)}`;
    case 'update':
      return `Changed ${s(d.field)}`;
    case 'action':
      return `Action ${s(d.action)}: ${JSON.stringify(d.detail ?? {})}`;
    case 'campaign':
      return `Linked to campaign ${s(d.campaign)}${Array.isArray(d.linked_incidents) && d.linked_incidents.length > 0 ? ` with ${d.linked_incidents.join(', ')}` : ''}`;
    case 'sla_breached':
      return `SLA breached: ${s(d.clock)} was due ${s(d.due)}`;
    default:
      return `${kind}: ${JSON.stringify(d)}`;
  }
}

/** The fleet's configured sample interval (seconds), else the server's default, else the agent's. */
export async function sampleInterval(store: Store, opts: ReportOptions): Promise<number> {
  const stored = await store.getAgentConfig();
  return stored?.config.intervalS ?? opts.defaultIntervalS ?? DEFAULT_INTERVAL_S;
}

/** A process's samples in [from, to), the newest first read, page by page up to the bound. */
async function samplesOf(
  store: Store,
  hostId: string,
  subject: string,
  from: string,
  to: string,
): Promise<{ samples: MetricSample[]; truncated: boolean }> {
  const pages: MetricSample[][] = [];
  let upper = to;
  for (let i = 0; i < METRIC_PAGES; i++) {
    const pts = await store.listMetrics({ hostId, subject, from, to: upper, limit: METRIC_PAGE });
    pages.unshift(pts);
    if (pts.length < METRIC_PAGE) return { samples: pages.flat(), truncated: false };
    upper = pts[0]!.at;
  }
  return { samples: pages.flat(), truncated: true };
}

/**
 * The impact of one incident from the store: its window, the processes its
 * findings name (the metric subject `pid:start` the agent sends for them),
 * their samples, and the wallets' coins. Shared by the report and the
 * monthly summary.
 */
export async function incidentImpact(
  store: Store,
  i: IncidentRecord,
  ctx: {
    events: readonly IncidentEvent[];
    findings: readonly StoredFinding[];
    coins: readonly string[];
    now: string;
  },
  opts: ReportOptions = {},
): Promise<Impact> {
  let firstSeen: string | null = null;
  for (const f of ctx.findings) if (firstSeen === null || f.firstSeen < firstSeen) firstSeen = f.firstSeen;
  const window = impactWindow({
    firstSeen,
    openedAt: i.openedAt,
    phase: i.phase,
    phaseAt: i.phaseAt,
    events: ctx.events,
    now: ctx.now,
  });
  const subjects = new Map<string, string | undefined>();
  for (const f of ctx.findings) {
    if (i.hostName !== null && f.finding.host.name !== i.hostName) continue;
    const subject = processSubject(f.finding.process);
    if (subject === undefined || subjects.has(subject)) continue;
    if (subjects.size >= MAX_PROCESSES) break;
    subjects.set(subject, f.finding.process?.executable ?? f.finding.process?.name);
  }
  const base = {
    window,
    intervalS: opts.intervalS ?? (await sampleInterval(store, opts)),
    hostCores: i.hostName === null ? null : ((await opts.hostCores?.(i.hostName)) ?? null),
    measuredWattsPerCore: i.hostName === null ? null : ((await opts.hostWattsPerCore?.(i.hostName)) ?? null),
    coins: ctx.coins,
    settings: opts.impact ?? impactSettings(undefined),
  };
  if (i.hostName === null)
    return computeImpact({ ...base, processes: [], unmeasuredReason: 'the incident names no host' });
  const host = await store.getHostByName(i.hostName);
  if (!host || !host.agent)
    return computeImpact({
      ...base,
      processes: [],
      unmeasuredReason: `no deminer agent reports metrics for ${i.hostName}`,
    });
  if (subjects.size === 0)
    return computeImpact({
      ...base,
      processes: [],
      unmeasuredReason: 'none of its findings names a process (pid) whose samples could be read',
    });
  // Buckets start up to an hour before the window and still reach into it.
  const from = new Date(Date.parse(window.from) - 3_600_000).toISOString();
  const processes: { subject: string; label?: string; samples: MetricSample[] }[] = [];
  let truncated = false;
  for (const [subject, label] of subjects) {
    const r = await samplesOf(store, host.id, subject, from, window.to);
    truncated ||= r.truncated;
    processes.push({ subject, samples: r.samples, ...(label === undefined ? {} : { label }) });
  }
  return computeImpact({ ...base, processes, truncated });
}

export async function buildReport(
  engine: CaseEngine,
  id: string,
  opts: ReportOptions = {},
): Promise<IncidentReport> {
  const store: Store = engine.store;
  const { incident: i, sla } = await engine.view(id);
  const events = await store.incidents.events(id);
  const fingerprints = await store.incidents.linkedFindings(id);
  const findings: IncidentReport['findings'] = [];
  const stored: StoredFinding[] = [];
  const techniques = new Set<string>();
  for (const fp of fingerprints) {
    const f = await store.getFinding(fp);
    if (f) {
      stored.push(f);
      for (const t of f.finding.threat.technique) techniques.add(t);
      findings.push({
        fingerprint: fp,
        rule_id: f.finding.rule.id,
        rule_name: f.finding.rule.name,
        severity: f.finding.severity,
        first_seen: f.firstSeen,
        last_seen: f.lastSeen,
        count: f.count,
        message: f.finding.message,
      });
    } else {
      // Retention removed it; the timeline still says what it was.
      const ev = events.find((e) => e.kind === 'finding' && e.data.fingerprint === fp);
      findings.push({
        fingerprint: fp,
        rule_id: String(ev?.data.rule_id ?? ''),
        rule_name: String(ev?.data.rule_name ?? ''),
        severity: String(ev?.data.severity ?? ''),
        first_seen: null,
        last_seen: null,
        count: null,
        message: String(ev?.data.message ?? '(no longer stored)'),
      });
    }
  }
  const ind = await store.incidents.indicators(id);
  const campaign = i.campaignId === null ? undefined : await store.incidents.campaign(i.campaignId);
  const hosts = new Set<string>();
  if (i.hostName !== null) hosts.add(i.hostName);
  const now = engine.nowIso();
  const coins = [
    ...new Set(ind.filter((x) => x.kind === 'wallet' && x.coin !== null).map((x) => x.coin as string)),
  ];
  const impact = await incidentImpact(store, i, { events, findings: stored, coins, now }, opts);
  const given = typeof opts.evidence === 'function' ? await opts.evidence(id) : (opts.evidence ?? []);
  const evidence = given.slice(0, MAX_EVIDENCE).map((e) => ({ ...e }));
  const breached = (['isolation', 'review'] as const).filter((c) => sla[c].breached);
  const summary = [
    `${i.title}: a ${i.severity} incident${i.hostName ? ` on ${i.hostName}` : ''}, opened ${i.openedAt} by ${i.openedBy}, now in ${i.phase}.`,
    `${findings.length} finding${findings.length === 1 ? '' : 's'} linked.`,
    campaign && campaign.incidents.length > 1
      ? `Part of campaign ${campaign.id} with ${campaign.incidents.length - 1} other incident${campaign.incidents.length === 2 ? '' : 's'}.`
      : '',
    impact.cpu_seconds !== null && impact.cost !== null
      ? `The miner used ${formatNumber(impact.cpu_seconds)} CPU-seconds (about ${formatMoney(impact.cost, impact.currency)} of electricity)${impact.coverage < 1 ? ' in the measured part of its window' : ''}.`
      : 'Its cost is not measured.',
    breached.length > 0 ? `SLA breached: ${breached.join(', ')}.` : 'No SLA breached so far.',
  ]
    .filter((x) => x !== '')
    .join(' ');
  const notMeasured = [...impact.not_measured];
  if (!opts.evidence)
    notMeasured.push(
      'Evidence: this server collects none (memory, binary and persistence collection through the agent is not enabled); none is listed.',
    );
  if (i.rootCause === null)
    notMeasured.push('Root cause: not recorded yet (PATCH the incident with root_cause).');
  if (i.lessons === null) notMeasured.push('Lessons: not recorded yet (PATCH the incident with lessons).');
  return {
    generated_at: now,
    incident: {
      id: i.id,
      title: i.title,
      host: i.hostName,
      severity: i.severity,
      phase: i.phase,
      opened_at: i.openedAt,
      opened_by: i.openedBy,
      assignee: i.assignee,
      closed_at: i.closedAt,
      campaign: i.campaignId,
      links: i.links,
      root_cause: i.rootCause,
      lessons: i.lessons,
    },
    summary,
    hosts: [...hosts].sort(),
    timeline: events.map((e) => ({
      at: e.at,
      actor: e.actor,
      kind: e.kind,
      text: eventText(e.kind, e.data),
    })),
    findings,
    techniques: [...techniques].sort(),
    indicators: {
      wallets: ind.filter((x) => x.kind === 'wallet').map((x) => ({ address: x.value, coin: x.coin })),
      pools: ind.filter((x) => x.kind === 'pool').map((x) => x.value),
      hashes: ind.filter((x) => x.kind === 'hash').map((x) => x.value),
      domains: ind.filter((x) => x.kind === 'domain').map((x) => x.value),
    },
    campaign: campaign
      ? {
          id: campaign.id,
          incidents: campaign.incidents.map((c) => ({ id: c.id, host: c.hostName, phase: c.phase })),
          hosts: [
            ...new Set(campaign.incidents.map((c) => c.hostName).filter((h): h is string => h !== null)),
          ].sort(),
        }
      : null,
    sla,
    impact,
    evidence,
    evidence_collected: opts.evidence !== undefined,
    not_measured: notMeasured,
  };
}

/**
 * Markdown text: markup characters escaped so that evidence cannot inject
 * it, line breaks folded, and terminal control characters (the CLI prints
 * this) made visible.
 */
export function md(text: string): string {
  return escapeControls(text.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' '));
}

/** Free text of several paragraphs (root cause, lessons): each line escaped, line breaks kept as Markdown breaks. */
function mdBlock(text: string): string[] {
  return text
    .split(/\r?\n/)
    .slice(0, 2000)
    .map((l) => md(l));
}

function clockLine(name: string, c: SlaState['isolation']): string {
  if (c.due === null) return `- ${name}: not started`;
  return `- ${name}: due ${c.due}, met ${c.met_at ?? '—'} — ${clockState(c)}`;
}

export function clockState(c: SlaState['isolation']): string {
  if (c.due === null) return 'not started';
  return c.met_at === null
    ? c.breached
      ? 'BREACHED (not met)'
      : 'running'
    : c.breached
      ? 'BREACHED (met late)'
      : 'met';
}

/** The impact as label/value rows, the same in Markdown and HTML (values plain text, escaped by the caller). */
export function impactRows(x: Impact): [string, string][] {
  const rows: [string, string][] = [];
  rows.push([
    'window',
    `${x.window.from} → ${x.window.to} (${formatSeconds(x.window.seconds)}${x.window.running ? ', still running' : ''})`,
  ]);
  if (x.cpu_seconds === null) {
    rows.push(['CPU time', 'not measured']);
    rows.push(['energy', 'not measured']);
    rows.push(['cost', 'not measured']);
  } else {
    rows.push([
      'CPU time',
      `${formatNumber(x.cpu_seconds)} CPU-seconds${x.mean_cores === null ? '' : ` (${formatNumber(x.mean_cores)} cores busy on average)`}`,
    ]);
    rows.push([
      'measured',
      `${formatSeconds(x.measured_seconds)} of ${formatSeconds(x.window.seconds)} (${formatNumber(x.coverage * 100, 3)} %)${x.gap_count > 0 ? `, ${x.gap_count} gap${x.gap_count === 1 ? '' : 's'} not measured` : ''}`,
    ]);
    rows.push([
      'share of host capacity',
      x.host_share === null || x.host_cores === null
        ? 'unknown (core count not known)'
        : `${formatNumber(x.host_share * 100, 3)} % of ${x.host_cores} cores`,
    ]);
    rows.push([
      'energy',
      `${formatNumber(x.energy_kwh ?? 0)} kWh at ${formatNumber(x.watts_per_core)} W per core`,
    ]);
    rows.push([
      'cost',
      `${formatMoney(x.cost ?? 0, x.currency)} at ${formatNumber(x.price_per_kwh)} ${x.currency}/kWh`,
    ]);
  }
  if (x.earnings.length === 0) rows.push(['attacker earnings', 'not estimated']);
  for (const e of x.earnings)
    rows.push([
      `attacker earnings (${e.coin})`,
      `${formatNumber(e.coins)} coins ≈ ${formatMoney(e.value, e.currency)} (${formatNumber(e.hashes)} hashes at ${formatNumber(e.hashrate_per_core)} H/s per core, ${e.algorithm})`,
    ]);
  return rows;
}

export function reportMarkdown(r: IncidentReport): string {
  const out: string[] = [];
  const i = r.incident;
  out.push(`# Incident ${i.id}: ${md(i.title)}`, '');
  out.push(`Generated ${r.generated_at}.`, '');
  out.push('## Summary', '', md(r.summary), '');
  out.push(
    `| field | value |`,
    `|---|---|`,
    `| host | ${md(i.host ?? '—')} |`,
    `| severity | ${i.severity} |`,
    `| phase | ${i.phase} |`,
    `| opened | ${i.opened_at} by ${md(i.opened_by)} |`,
    `| assignee | ${md(i.assignee ?? '—')} |`,
    `| closed | ${i.closed_at ?? '—'} |`,
    `| campaign | ${i.campaign ?? '—'} |`,
    '',
  );
  out.push('## Affected hosts', '');
  for (const h of r.campaign?.hosts.length ? r.campaign.hosts : r.hosts) out.push(`- ${md(h)}`);
  if (r.hosts.length === 0 && !r.campaign?.hosts.length) out.push('- (none named)');
  out.push('');
  out.push('## SLA', '', clockLine('Isolation', r.sla.isolation), clockLine('Review', r.sla.review), '');
  out.push('## Impact', '', '| measure | value |', '|---|---|');
  for (const [k, v] of impactRows(r.impact)) out.push(`| ${md(k)} | ${md(v)} |`);
  out.push('');
  if (r.impact.gaps.length > 0) {
    out.push('Not measured (no sample):');
    for (const g of r.impact.gaps) out.push(`- ${g.from} → ${g.to} (${formatSeconds(g.seconds)})`);
    if (r.impact.gap_count > r.impact.gaps.length)
      out.push(`- … and ${r.impact.gap_count - r.impact.gaps.length} more`);
    out.push('');
  }
  if (r.impact.processes.length > 0) {
    out.push(
      '| process (pid:start) | executable | CPU-seconds | measured | samples | buckets |',
      '|---|---|---|---|---|---|',
    );
    for (const p of r.impact.processes)
      out.push(
        `| ${md(p.subject)} | ${md(p.label ?? '—')} | ${formatNumber(p.cpu_seconds)} | ${formatSeconds(p.measured_seconds)} | ${p.samples} | ${p.buckets} |`,
      );
    out.push('');
  }
  out.push('Assumptions:');
  for (const a of r.impact.assumptions) out.push(`- ${md(a)}`);
  out.push('');
  out.push('## Root cause', '');
  out.push(
    ...(i.root_cause === null ? ['Not recorded yet.'] : mdBlock(i.root_cause).map((l) => `${l}  `)),
    '',
  );
  out.push('## Lessons', '');
  out.push(...(i.lessons === null ? ['Not recorded yet.'] : mdBlock(i.lessons).map((l) => `${l}  `)), '');
  out.push('## Timeline', '', '| time (UTC) | who | what |', '|---|---|---|');
  for (const e of r.timeline) out.push(`| ${e.at} | ${md(e.actor)} | ${md(e.text)} |`);
  out.push('');
  out.push('## Findings', '');
  if (r.findings.length === 0) out.push('None linked.');
  else {
    out.push('| severity | rule | first seen | last seen | count | message |', '|---|---|---|---|---|---|');
    for (const f of r.findings)
      out.push(
        `| ${md(f.severity)} | ${md(f.rule_name)} (${md(f.rule_id)}) | ${f.first_seen ?? '—'} | ${f.last_seen ?? '—'} | ${f.count ?? '—'} | ${md(f.message)} |`,
      );
  }
  out.push('', `ATT&CK techniques: ${r.techniques.length ? r.techniques.map(md).join(', ') : '—'}`, '');
  out.push('## Indicators', '');
  out.push('Wallets:');
  if (r.indicators.wallets.length === 0) out.push('- none');
  for (const w of r.indicators.wallets) out.push(`- ${w.coin ?? 'unknown coin'}: \`${w.address}\``);
  out.push('', 'Pools:');
  if (r.indicators.pools.length === 0) out.push('- none');
  for (const p of r.indicators.pools) out.push(`- ${md(p)}`);
  out.push('', 'Binary hashes:');
  if (r.indicators.hashes.length === 0) out.push('- none');
  for (const h of r.indicators.hashes) out.push(`- ${md(h)}`);
  out.push('', 'Domains (C2 candidates):');
  if (r.indicators.domains.length === 0) out.push('- none');
  for (const d of r.indicators.domains) out.push(`- ${md(d)}`);
  out.push('');
  out.push('## Evidence', '');
  if (r.evidence.length === 0)
    out.push(r.evidence_collected ? 'None collected.' : 'None collected (this server collects no evidence).');
  else {
    out.push('| id | kind | host | collected | bytes | SHA-256 |', '|---|---|---|---|---|---|');
    for (const e of r.evidence)
      out.push(
        `| ${md(e.id)} | ${md(e.kind)} | ${md(e.host)} | ${md(e.collected_at)} | ${e.bytes} | ${md(e.sha256)} |`,
      );
  }
  out.push('');
  if (r.campaign) {
    out.push('## Campaign', '', `Campaign ${r.campaign.id}:`);
    for (const c of r.campaign.incidents) out.push(`- ${c.id} on ${md(c.host ?? '—')} (${c.phase})`);
    out.push('');
  }
  out.push('## Not yet measured', '');
  if (r.not_measured.length === 0) out.push('- Nothing left out.');
  for (const n of r.not_measured) out.push(`- ${md(n)}`);
  out.push('');
  return out.join('\n');
}
