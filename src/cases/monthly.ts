import { SEVERITIES } from '../core/severity.ts';
import type { IncidentRecord } from '../store/incident-types.ts';
import type { StoredFinding } from '../store/types.ts';
import type { CaseEngine } from './engine.ts';
import { formatMoney, formatNumber, formatSeconds } from './impact.ts';
import { PHASES } from './phases.ts';
import { incidentImpact, md, type ReportOptions, sampleInterval } from './report.ts';
import { esc, list, page, table } from './report-html.ts';

/**
 * The monthly summary (docs/incidents.md): the incidents opened in one UTC
 * month, by phase and severity, the mean times to detect, isolate and
 * recover, SLA breaches per clock, what the miners cost (the sum of the
 * incidents' impacts), the hosts and campaigns. Bounded: at most
 * MAX_INCIDENTS incidents are summarised and the impact of at most
 * MAX_IMPACTS is computed (each reads the agent's samples); the output says
 * when either bound cut it.
 */

export const MAX_INCIDENTS = 10_000;
export const MAX_IMPACTS = 2_000;
/** Incidents, hosts and campaigns listed by name (all are counted). */
const MAX_LISTED = 1_000;
/** Findings read per incident for its processes. */
const MAX_FINDINGS_READ = 500;

const MONTH = /^([0-9]{4})-(0[1-9]|1[0-2])$/;

/** `2026-11` → its first instant and the next month's, UTC; undefined when it is no month. */
export function monthRange(month: string): { from: string; to: string } | undefined {
  const m = MONTH.exec(month);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  if (y < 1970) return undefined;
  return {
    from: new Date(Date.UTC(y, mo - 1, 1)).toISOString(),
    to: new Date(Date.UTC(y, mo, 1)).toISOString(),
  };
}

export interface MeanTime {
  /** Seconds; null when no incident had both times. */
  mean_s: number | null;
  /** Incidents it is the mean of. */
  n: number;
}

export interface MonthlySummary {
  month: string;
  from: string;
  to: string;
  generated_at: string;
  /** Incidents opened in the month that are summarised (at most MAX_INCIDENTS). */
  incidents: number;
  /** More were opened than MAX_INCIDENTS: the oldest were summarised. */
  cut: boolean;
  by_phase: Record<string, number>;
  by_severity: Record<string, number>;
  /** First sighting of the first finding → opened. */
  time_to_detect: MeanTime;
  /** Opened → the isolation clock met (moved past isolation). */
  time_to_isolate: MeanTime;
  /** Opened → the move to recovery or later. */
  time_to_recover: MeanTime;
  sla_breaches: { isolation: number; review: number };
  impact: {
    /** Incidents whose impact was computed (at most MAX_IMPACTS), and of those how many had samples. */
    computed: number;
    measured: number;
    not_measured: number;
    cpu_seconds: number;
    energy_kwh: number;
    cost: number;
    currency: string;
    earnings: { coin: string; coins: number; value: number; currency: string }[];
  };
  hosts: { count: number; names: string[] };
  campaigns: { count: number; items: { id: string; incidents: number; hosts: string[] }[] };
  items: {
    id: string;
    title: string;
    host: string | null;
    severity: string;
    phase: string;
    opened_at: string;
    campaign: string | null;
    breached: string[];
    cpu_seconds: number | null;
    cost: number | null;
  }[];
  notes: string[];
}

function mean(xs: readonly number[]): MeanTime {
  if (xs.length === 0) return { mean_s: null, n: 0 };
  return { mean_s: Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1000) / 1000, n: xs.length };
}

const seconds = (from: string, to: string): number => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

export async function buildMonthly(
  engine: CaseEngine,
  month: string,
  opts: ReportOptions & { maxIncidents?: number; maxImpacts?: number } = {},
): Promise<MonthlySummary> {
  const range = monthRange(month);
  if (!range) throw new RangeError(`not a month: ${month}`);
  const store = engine.store;
  const maxIncidents = opts.maxIncidents ?? MAX_INCIDENTS;
  const maxImpacts = opts.maxImpacts ?? MAX_IMPACTS;
  const now = engine.nowIso();
  const fetched = await store.incidents.openedBetween(range.from, range.to, maxIncidents + 1);
  const cut = fetched.length > maxIncidents;
  const incidents: IncidentRecord[] = fetched.slice(0, maxIncidents);
  const firstSeen = await store.incidents.firstFindingSeen(incidents.map((i) => i.id));
  const impactOptions: ReportOptions = {
    ...opts,
    intervalS: opts.intervalS ?? (await sampleInterval(store, opts)),
  };

  const byPhase: Record<string, number> = Object.fromEntries(PHASES.map((p) => [p, 0]));
  const bySeverity: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  const detect: number[] = [];
  const isolate: number[] = [];
  const recover: number[] = [];
  const breaches = { isolation: 0, review: 0 };
  const hosts = new Set<string>();
  const campaigns = new Map<string, { incidents: number; hosts: Set<string> }>();
  const settingsCurrency = opts.impact?.currency;
  const impact: MonthlySummary['impact'] = {
    computed: 0,
    measured: 0,
    not_measured: 0,
    cpu_seconds: 0,
    energy_kwh: 0,
    cost: 0,
    currency: settingsCurrency ?? 'EUR',
    earnings: [],
  };
  const earnings = new Map<string, { coins: number; value: number; currency: string }>();
  const items: MonthlySummary['items'] = [];

  for (const i of incidents) {
    byPhase[i.phase] = (byPhase[i.phase] ?? 0) + 1;
    bySeverity[i.severity] = (bySeverity[i.severity] ?? 0) + 1;
    const first = firstSeen.get(i.id);
    if (first !== undefined) detect.push(seconds(first, i.openedAt));
    if (i.isolationMetAt !== null) isolate.push(seconds(i.openedAt, i.isolationMetAt));
    if (i.recoveryAt !== null) recover.push(seconds(i.openedAt, i.recoveryAt));
    const sla = engine.slaOf(i);
    const breached: string[] = [];
    if (sla.isolation.breached) {
      breaches.isolation++;
      breached.push('isolation');
    }
    if (sla.review.breached) {
      breaches.review++;
      breached.push('review');
    }
    if (i.hostName !== null) hosts.add(i.hostName);
    if (i.campaignId !== null) {
      const c = campaigns.get(i.campaignId) ?? { incidents: 0, hosts: new Set<string>() };
      c.incidents++;
      if (i.hostName !== null) c.hosts.add(i.hostName);
      campaigns.set(i.campaignId, c);
    }
    let cpu: number | null = null;
    let cost: number | null = null;
    if (impact.computed < maxImpacts) {
      const events = await store.incidents.events(i.id);
      const findings: StoredFinding[] = [];
      for (const fp of (await store.incidents.linkedFindings(i.id)).slice(0, MAX_FINDINGS_READ)) {
        const f = await store.getFinding(fp);
        if (f) findings.push(f);
      }
      const coins = [
        ...new Set(
          (await store.incidents.indicators(i.id))
            .filter((x) => x.kind === 'wallet' && x.coin !== null)
            .map((x) => x.coin as string),
        ),
      ];
      const x = await incidentImpact(store, i, { events, findings, coins, now }, impactOptions);
      impact.computed++;
      impact.currency = x.currency;
      if (x.cpu_seconds !== null && x.cost !== null && x.energy_kwh !== null) {
        impact.measured++;
        impact.cpu_seconds += x.cpu_seconds;
        impact.energy_kwh += x.energy_kwh;
        impact.cost += x.cost;
        cpu = x.cpu_seconds;
        cost = x.cost;
      } else impact.not_measured++;
      for (const e of x.earnings) {
        const sum = earnings.get(e.coin) ?? { coins: 0, value: 0, currency: e.currency };
        sum.coins += e.coins;
        sum.value += e.value;
        earnings.set(e.coin, sum);
      }
    }
    if (items.length < MAX_LISTED)
      items.push({
        id: i.id,
        title: i.title,
        host: i.hostName,
        severity: i.severity,
        phase: i.phase,
        opened_at: i.openedAt,
        campaign: i.campaignId,
        breached,
        cpu_seconds: cpu,
        cost,
      });
  }
  impact.cpu_seconds = Math.round(impact.cpu_seconds * 1000) / 1000;
  impact.energy_kwh = Number(impact.energy_kwh.toPrecision(6));
  impact.cost = Number(impact.cost.toPrecision(6));
  impact.earnings = [...earnings]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([coin, e]) => ({
      coin,
      coins: Number(e.coins.toPrecision(6)),
      value: Number(e.value.toPrecision(6)),
      currency: e.currency,
    }));

  const notes: string[] = [];
  if (cut)
    notes.push(
      `More than ${maxIncidents} incidents were opened this month: the oldest ${maxIncidents} are summarised, the rest left out.`,
    );
  if (incidents.length > maxImpacts)
    notes.push(
      `The impact was computed for the oldest ${maxImpacts} incidents only (each reads the agent's samples); the cost is a lower bound.`,
    );
  if (impact.not_measured > 0)
    notes.push(
      `${impact.not_measured} incident${impact.not_measured === 1 ? '' : 's'} had no metric samples: not measured, not counted as 0 (the totals are a lower bound).`,
    );
  if (items.length < incidents.length) notes.push(`The first ${MAX_LISTED} incidents are listed by name.`);
  notes.push(
    'Times are from the opening: to isolate, until the incident moved past isolation; to recover, until it moved to recovery or later; to detect, from the first sighting of its first finding. Month boundaries are UTC.',
  );

  const hostNames = [...hosts].sort();
  return {
    month,
    from: range.from,
    to: range.to,
    generated_at: now,
    incidents: incidents.length,
    cut,
    by_phase: byPhase,
    by_severity: bySeverity,
    time_to_detect: mean(detect),
    time_to_isolate: mean(isolate),
    time_to_recover: mean(recover),
    sla_breaches: breaches,
    impact,
    hosts: { count: hostNames.length, names: hostNames.slice(0, MAX_LISTED) },
    campaigns: {
      count: campaigns.size,
      items: [...campaigns]
        .sort(([a, x], [b, y]) => y.incidents - x.incidents || (a < b ? -1 : 1))
        .slice(0, MAX_LISTED)
        .map(([id, c]) => ({ id, incidents: c.incidents, hosts: [...c.hosts].sort() })),
    },
    items,
    notes,
  };
}

function meanText(m: MeanTime): string {
  return m.mean_s === null ? '— (none)' : `${formatSeconds(m.mean_s)} (mean of ${m.n})`;
}

function summaryRows(s: MonthlySummary): [string, string][] {
  const x = s.impact;
  const rows: [string, string][] = [
    ['incidents opened', `${s.incidents}${s.cut ? ' (cut: see the notes)' : ''}`],
    [
      'by phase',
      Object.entries(s.by_phase)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    [
      'by severity',
      Object.entries(s.by_severity)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    ['mean time to detect', meanText(s.time_to_detect)],
    ['mean time to isolate', meanText(s.time_to_isolate)],
    ['mean time to recover', meanText(s.time_to_recover)],
    ['SLA breaches', `isolation ${s.sla_breaches.isolation}, review ${s.sla_breaches.review}`],
    ['hosts affected', String(s.hosts.count)],
    ['campaigns', String(s.campaigns.count)],
    [
      'CPU time',
      x.measured === 0
        ? 'not measured'
        : `${formatNumber(x.cpu_seconds)} CPU-seconds (${x.measured} of ${x.computed} incidents measured)`,
    ],
    ['energy', x.measured === 0 ? 'not measured' : `${formatNumber(x.energy_kwh)} kWh`],
    ['cost', x.measured === 0 ? 'not measured' : formatMoney(x.cost, x.currency)],
  ];
  for (const e of x.earnings)
    rows.push([
      `attacker earnings (${e.coin})`,
      `${formatNumber(e.coins)} coins ≈ ${formatMoney(e.value, e.currency)}`,
    ]);
  return rows;
}

function itemRow(i: MonthlySummary['items'][number], currency: string): string[] {
  return [
    i.id,
    i.opened_at,
    i.host ?? '—',
    i.severity,
    i.phase,
    i.title,
    i.breached.length ? i.breached.join(', ') : '—',
    i.cpu_seconds === null ? 'not measured' : formatNumber(i.cpu_seconds),
    i.cost === null ? 'not measured' : formatMoney(i.cost, currency),
  ];
}

const ITEM_HEAD = [
  'incident',
  'opened',
  'host',
  'severity',
  'phase',
  'title',
  'SLA breached',
  'CPU-seconds',
  'cost',
];

export function monthlyMarkdown(s: MonthlySummary): string {
  const out: string[] = [
    `# Incidents of ${s.month}`,
    '',
    `${s.from} to ${s.to} (UTC). Generated ${s.generated_at}.`,
    '',
  ];
  out.push('## Summary', '', '| measure | value |', '|---|---|');
  for (const [k, v] of summaryRows(s)) out.push(`| ${md(k)} | ${md(v)} |`);
  out.push('', '## Hosts', '');
  if (s.hosts.names.length === 0) out.push('- none');
  for (const h of s.hosts.names) out.push(`- ${md(h)}`);
  out.push('', '## Campaigns', '');
  if (s.campaigns.items.length === 0) out.push('- none');
  for (const c of s.campaigns.items)
    out.push(
      `- ${md(c.id)}: ${c.incidents} incident${c.incidents === 1 ? '' : 's'} this month on ${c.hosts.map(md).join(', ') || '—'}`,
    );
  out.push('', '## Incidents', '');
  if (s.items.length === 0) out.push('None opened.');
  else {
    out.push(`| ${ITEM_HEAD.join(' | ')} |`, `|${ITEM_HEAD.map(() => '---').join('|')}|`);
    for (const i of s.items) out.push(`| ${itemRow(i, s.impact.currency).map(md).join(' | ')} |`);
  }
  out.push('', '## Notes', '');
  for (const n of s.notes) out.push(`- ${md(n)}`);
  out.push('');
  return out.join('\n');
}

export function monthlyHtml(s: MonthlySummary): string {
  const b: string[] = [];
  b.push(`<h1>Incidents of ${esc(s.month)}</h1>`);
  b.push(`<p class="muted">${esc(`${s.from} to ${s.to} (UTC). Generated ${s.generated_at}.`)}</p>`);
  b.push('<h2>Summary</h2>', table(['measure', 'value'], summaryRows(s)));
  b.push('<h2>Hosts</h2>', list(s.hosts.names, 'none'));
  b.push(
    '<h2>Campaigns</h2>',
    list(
      s.campaigns.items.map(
        (c) => `${c.id}: ${c.incidents} incident(s) this month on ${c.hosts.join(', ') || '—'}`,
      ),
      'none',
    ),
  );
  b.push('<h2>Incidents</h2>');
  b.push(
    s.items.length === 0
      ? '<p class="muted">None opened.</p>'
      : table(
          ITEM_HEAD,
          s.items.map((i) => itemRow(i, s.impact.currency)),
        ),
  );
  b.push('<h2>Notes</h2>', list(s.notes, 'none'));
  return page(`Incidents of ${s.month}`, b);
}
