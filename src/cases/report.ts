import type { Store } from '../store/types.ts';
import type { CaseEngine } from './engine.ts';
import type { SlaState } from './sla.ts';

/**
 * The incident report: what management asks for, from what the store
 * holds. Honest about what deminer does not measure yet (the miner's cost,
 * collected evidence): those sections say so rather than show a number.
 */
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
  not_measured: string[];
}

const NOT_MEASURED = [
  'Cost: the CPU-seconds the miner used, the energy and its price are not measured yet (no number is given rather than an invented one).',
  'Attacker earnings: not estimated yet (needs the measured hash rate and coin prices).',
  'Evidence: memory, binary and persistence collection through the agent is not implemented yet; this report lists no evidence files.',
  'Root cause and lessons: not recorded as fields yet; see the notes in the timeline.',
];

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

export async function buildReport(engine: CaseEngine, id: string): Promise<IncidentReport> {
  const store: Store = engine.store;
  const { incident: i, sla } = await engine.view(id);
  const events = await store.incidents.events(id);
  const fingerprints = await store.incidents.linkedFindings(id);
  const findings: IncidentReport['findings'] = [];
  const techniques = new Set<string>();
  for (const fp of fingerprints) {
    const f = await store.getFinding(fp);
    if (f) {
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
  const breached = (['isolation', 'review'] as const).filter((c) => sla[c].breached);
  const summary = [
    `${i.title}: a ${i.severity} incident${i.hostName ? ` on ${i.hostName}` : ''}, opened ${i.openedAt} by ${i.openedBy}, now in ${i.phase}.`,
    `${findings.length} finding${findings.length === 1 ? '' : 's'} linked.`,
    campaign && campaign.incidents.length > 1
      ? `Part of campaign ${campaign.id} with ${campaign.incidents.length - 1} other incident${campaign.incidents.length === 2 ? '' : 's'}.`
      : '',
    breached.length > 0 ? `SLA breached: ${breached.join(', ')}.` : 'No SLA breached so far.',
  ]
    .filter((x) => x !== '')
    .join(' ');
  return {
    generated_at: engine.nowIso(),
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
    not_measured: NOT_MEASURED,
  };
}

/** Markdown text: table cells and inline text escaped so that evidence cannot inject markup. */
function md(text: string): string {
  return text.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

function clockLine(name: string, c: SlaState['isolation']): string {
  if (c.due === null) return `- ${name}: not started`;
  const state =
    c.met_at === null
      ? c.breached
        ? 'BREACHED (not met)'
        : 'running'
      : c.breached
        ? 'BREACHED (met late)'
        : 'met';
  return `- ${name}: due ${c.due}, met ${c.met_at ?? '—'} — ${state}`;
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
  out.push('## Timeline', '', '| time (UTC) | who | what |', '|---|---|---|');
  for (const e of r.timeline) out.push(`| ${e.at} | ${md(e.actor)} | ${md(e.text)} |`);
  out.push('');
  out.push('## Findings', '');
  if (r.findings.length === 0) out.push('None linked.');
  else {
    out.push('| severity | rule | first seen | last seen | count | message |', '|---|---|---|---|---|---|');
    for (const f of r.findings)
      out.push(
        `| ${f.severity} | ${md(f.rule_name)} (${md(f.rule_id)}) | ${f.first_seen ?? '—'} | ${f.last_seen ?? '—'} | ${f.count ?? '—'} | ${md(f.message)} |`,
      );
  }
  out.push('', `ATT&CK techniques: ${r.techniques.length ? r.techniques.join(', ') : '—'}`, '');
  out.push('## Indicators', '');
  out.push('Wallets:');
  if (r.indicators.wallets.length === 0) out.push('- none');
  for (const w of r.indicators.wallets) out.push(`- ${w.coin ?? 'unknown coin'}: \`${w.address}\``);
  out.push('', 'Pools:');
  if (r.indicators.pools.length === 0) out.push('- none');
  for (const p of r.indicators.pools) out.push(`- ${md(p)}`);
  out.push('', 'Binary hashes:');
  if (r.indicators.hashes.length === 0) out.push('- none');
  for (const h of r.indicators.hashes) out.push(`- ${h}`);
  out.push('', 'Domains (C2 candidates):');
  if (r.indicators.domains.length === 0) out.push('- none');
  for (const d of r.indicators.domains) out.push(`- ${md(d)}`);
  out.push('');
  if (r.campaign) {
    out.push('## Campaign', '', `Campaign ${r.campaign.id}:`);
    for (const c of r.campaign.incidents) out.push(`- ${c.id} on ${md(c.host ?? '—')} (${c.phase})`);
    out.push('');
  }
  out.push('## Not yet measured', '');
  for (const n of r.not_measured) out.push(`- ${n}`);
  out.push('');
  return out.join('\n');
}
