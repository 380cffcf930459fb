import { useEffect, useId, useMemo } from 'react';
import type uPlot from 'uplot';
import { api, query } from '../api.ts';
import { SeverityBadge, StatusBadge } from '../components/badges.tsx';
import { Chart, type ChartOptions, SERIES_COLORS } from '../components/chart.tsx';
import { Link } from '../components/link.tsx';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { Time } from '../components/time.tsx';
import { bytes, cpuPercent } from '../format.ts';
import { type Loaded, useLoad } from '../load.ts';
import { navigate, useLocation, withQuery } from '../router.ts';
import { canAct, type Session } from '../session.ts';
import { useLive } from '../stream.ts';
import type { Finding, Host, MetricPoint, Page } from '../types.ts';
import { useTitle } from '../use-session.ts';
import { IsolationActions, IsolationFact, useHostIsolation } from './host-isolation.tsx';
import { OpenIncidentsPanel } from './incidents.tsx';

const RANGES = [
  { id: '1h', label: 'last hour', ms: 3600_000 },
  { id: '6h', label: 'last 6 hours', ms: 6 * 3600_000 },
  { id: '24h', label: 'last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'last 7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: 'last 30 days', ms: 30 * 86_400_000 },
] as const;
/** Processes charted beside the host itself: the busiest few. */
const MAX_PROCESSES = 4;
const METRICS_REFRESH_MS = 30_000;
const FINDINGS_SHOWN = 25;

export function HostPage({ id, session }: { id: string; session: Session }) {
  const loc = useLocation();
  const fieldId = useId();
  const host = useLoad(`host:${id}`, (signal) => api<Host>(`/hosts/${encodeURIComponent(id)}`, { signal }));
  const name = host.data?.name;
  useTitle(name ? `Host ${name}` : 'Host');
  useLive(['host'], host.reload, (e) => (e.data as { id?: string } | null)?.id === id);
  const isolation = useHostIsolation(id);

  const findingsPath = name ? `/findings${query({ host: name, limit: FINDINGS_SHOWN })}` : '';
  const findings = useLoad(findingsPath, (signal) =>
    findingsPath ? api<Page<Finding>>(findingsPath, { signal }) : Promise.resolve({ items: [], next: null }),
  );
  useLive(['finding'], findings.reload, (e) => (e.data as Finding | null)?.host?.name === name);
  // Metrics name processes by pid and start time; findings say which executable a pid is.
  const processNames = new Map<string, string>();
  for (const f of findings.data?.items ?? []) {
    const p = f.process;
    const label = p?.name ?? p?.executable?.split('/').pop();
    if (p?.pid !== undefined && label) processNames.set(String(p.pid), label);
  }

  const rangeId = loc.query.get('range') ?? '1h';
  const range = RANGES.find((r) => r.id === rangeId) ?? RANGES[0];
  return (
    <>
      <p className="crumbs">
        <Link to="/hosts">Hosts</Link> ›
      </p>
      {host.error && !host.data ? <ErrorNotice error={host.error} what="this host" /> : null}
      {host.loading && !host.data && !host.error ? <Loading what="the host" /> : null}
      {host.data ? (
        <>
          <div className="page-head">
            <h1>{host.data.name}</h1>
            <StatusBadge status={host.data.status} />
          </div>
          <dl className="facts">
            <div>
              <dt>Last seen</dt>
              <dd>
                <Time iso={host.data.last_seen} /> (<Time iso={host.data.last_seen} relative />)
              </dd>
            </div>
            <div>
              <dt>First seen</dt>
              <dd>
                <Time iso={host.data.first_seen} />
              </dd>
            </div>
            <div>
              <dt>OS</dt>
              <dd>{[host.data.os, host.data.kernel].filter(Boolean).join(' · ') || '—'}</dd>
            </div>
            <div>
              <dt>Addresses</dt>
              <dd>{host.data.addresses.join(', ') || '—'}</dd>
            </div>
            <div>
              <dt>Network</dt>
              <dd>
                <IsolationFact iso={isolation} />
              </dd>
            </div>
            <div>
              <dt>Agent</dt>
              <dd>
                {host.data.agent
                  ? `yes${host.data.agent_version ? `, ${host.data.agent_version}` : ''}`
                  : 'no (seen in findings only)'}
              </dd>
            </div>
          </dl>

          {canAct(session) ? (
            <section className="panel" aria-labelledby="actions" data-testid="host-actions">
              <h2 id="actions">Response actions</h2>
              <IsolationActions host={host.data} iso={isolation} />
            </section>
          ) : null}

          <section className="panel" aria-labelledby="usage">
            <div className="panel-head">
              <h2 id="usage">CPU and memory</h2>
              <div className="inline-field">
                <label htmlFor={`${fieldId}-range`}>Period</label>
                <select
                  id={`${fieldId}-range`}
                  value={range.id}
                  onChange={(e) =>
                    navigate(
                      withQuery(loc, { range: e.target.value === '1h' ? undefined : e.target.value }),
                      { replace: true },
                    )
                  }
                >
                  {RANGES.map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.label}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <Metrics hostId={id} rangeMs={range.ms} rangeLabel={range.label} processNames={processNames} />
          </section>

          <HostFindings hostName={host.data.name} f={findings} />

          <section className="panel" aria-labelledby="host-incidents">
            <h2 id="host-incidents">Incidents</h2>
            <OpenIncidentsPanel host={host.data.name} />
          </section>
        </>
      ) : null}
    </>
  );
}

interface SubjectSeries {
  subject: string;
  points: MetricPoint[];
  peakCpu: number;
}

function Metrics({
  hostId,
  rangeMs,
  rangeLabel,
  processNames,
}: {
  hostId: string;
  rangeMs: number;
  rangeLabel: string;
  processNames: Map<string, string>;
}) {
  // The range is re-anchored at "now" on each reload.
  const key = `metrics:${hostId}:${rangeMs}`;
  // The host's own line gets its own request: process samples outnumber it and would crowd it out of one answer.
  const m = useLoad(key, async (signal) => {
    const base = `/hosts/${encodeURIComponent(hostId)}/metrics`;
    const from = new Date(Date.now() - rangeMs).toISOString();
    const [own, all] = await Promise.all([
      api<Page<MetricPoint>>(`${base}${query({ subject: 'host', from })}`, { signal }),
      api<Page<MetricPoint>>(`${base}${query({ from })}`, { signal }),
    ]);
    return { items: [...own.items, ...all.items.filter((p) => p.subject !== 'host')] };
  });
  const reload = m.reload;
  useEffect(() => {
    const t = setInterval(reload, METRICS_REFRESH_MS);
    return () => clearInterval(t);
  }, [reload]);

  const namesKey = [...processNames.keys()].join(',');
  const subjects = useMemo(() => {
    const processNames = new Set(namesKey.split(','));
    const by = new Map<string, SubjectSeries>();
    for (const p of m.data?.items ?? []) {
      let s = by.get(p.subject);
      if (!s) {
        s = { subject: p.subject, points: [], peakCpu: 0 };
        by.set(p.subject, s);
      }
      s.points.push(p);
      s.peakCpu = Math.max(s.peakCpu, p.cpu_max ?? p.cpu ?? 0);
    }
    const hostSeries = by.get('host');
    by.delete('host');
    // Processes a finding names first (what the analyst came for), then the busiest.
    const named = (s: SubjectSeries): number =>
      processNames.has(/^(\d+):/.exec(s.subject)?.[1] ?? '') ? 1 : 0;
    const procs = [...by.values()]
      .sort((a, b) => named(b) - named(a) || b.peakCpu - a.peakCpu)
      .slice(0, MAX_PROCESSES);
    return hostSeries ? [hostSeries, ...procs] : procs;
  }, [m.data, namesKey]);

  const labels = subjects.map((s) => subjectLabel(s.subject, processNames));
  if (m.error && !m.data) return <ErrorNotice error={m.error} what="metrics" />;
  if (m.loading && !m.data) return <Loading what="metrics" />;
  if (subjects.length === 0) return <p className="muted">No metrics in the {rangeLabel}.</p>;
  return (
    <div className="two-col">
      <MetricChart
        subjects={subjects}
        labels={labels}
        pick={pickCpu}
        caption={`CPU, ${rangeLabel} (percent of one core, as top shows it)`}
        unit={cpuPercent}
        label="CPU %"
      />
      <MetricChart
        subjects={subjects}
        labels={labels}
        pick={pickMemory}
        caption={`Memory, ${rangeLabel}`}
        unit={bytes}
        label="memory"
      />
    </div>
  );
}

const pickCpu = (p: MetricPoint): number | undefined => p.cpu;
const pickMemory = (p: MetricPoint): number | undefined => p.memory_bytes;

/** 'host', "kswapd0 (pid 4242)" for a process whose finding names it, else "pid 4242" (or an executable's base name). */
function subjectLabel(subject: string, names: Map<string, string>): string {
  if (subject === 'host') return 'host';
  const pid = /^(\d+):/.exec(subject)?.[1];
  if (pid !== undefined) {
    const name = names.get(pid);
    return name ? `${name.length > 20 ? `${name.slice(0, 19)}…` : name} (pid ${pid})` : `pid ${pid}`;
  }
  const base = subject.split('/').pop() ?? subject;
  return base.length > 28 ? `${base.slice(0, 27)}…` : base;
}

/** One chart, one line per subject, on the union of their sample times (gaps where a subject has none). */
function MetricChart({
  subjects,
  labels,
  pick,
  caption,
  unit,
  label,
}: {
  subjects: SubjectSeries[];
  labels: string[];
  pick: (p: MetricPoint) => number | undefined;
  caption: string;
  unit: (n: number) => string;
  label: string;
}) {
  const names = labels.join('\n');
  const data = useMemo(() => {
    const times = new Set<number>();
    for (const s of subjects) for (const p of s.points) times.add(Math.floor(Date.parse(p.at) / 1000));
    const xs = [...times].sort((a, b) => a - b);
    const index = new Map(xs.map((t, i) => [t, i]));
    const ys = subjects.map((s) => {
      const row: (number | null)[] = xs.map(() => null);
      for (const p of s.points) {
        const v = pick(p);
        if (v !== undefined) row[index.get(Math.floor(Date.parse(p.at) / 1000))!] = v;
      }
      return row;
    });
    return [xs, ...ys] as uPlot.AlignedData;
  }, [subjects, pick]);
  const options = useMemo<ChartOptions>(
    () => ({
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max, 1)] } },
      axes: [{}, { size: 70, values: (_u, splits) => splits.map((v) => unit(v)) }],
      series: [
        { label: 'time' },
        ...names.split('\n').map((s, i) => ({
          label: s,
          stroke: SERIES_COLORS[i % SERIES_COLORS.length]!,
          width: s === 'host' ? 2 : 1.5,
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : unit(v)),
        })),
      ],
    }),
    [names, unit],
  );
  const last = subjects[0]?.points.at(-1);
  const lastValue = last ? pick(last) : undefined;
  return (
    <Chart
      caption={caption}
      summary={`${label} of ${labels.join(', ')}; latest ${labels[0]} value ${lastValue === undefined ? 'unknown' : unit(lastValue)}.`}
      options={options}
      data={data}
      height={200}
    />
  );
}

function HostFindings({ hostName, f }: { hostName: string; f: Loaded<Page<Finding>> }) {
  const open = (f.data?.items ?? []).filter((x) => !x.acknowledged);
  const suspicious = new Map<string, Finding>();
  for (const x of open) {
    const p = x.process;
    if (!p || (p.pid === undefined && !p.executable)) continue;
    const k = `${p.pid ?? ''}:${p.executable ?? p.name ?? ''}`;
    if (!suspicious.has(k)) suspicious.set(k, x);
  }
  return (
    <>
      <section className="panel" aria-labelledby="procs">
        <h2 id="procs">Suspicious processes</h2>
        {suspicious.size === 0 ? (
          <p className="muted">No open finding names a process on this host.</p>
        ) : (
          <table className="compact">
            <thead>
              <tr>
                <th scope="col">PID</th>
                <th scope="col">Process</th>
                <th scope="col">Why</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {[...suspicious.values()].map((x) => (
                <tr key={x.fingerprint}>
                  <td className="num">{x.process?.pid ?? '—'}</td>
                  <td className="mono break">{x.process?.executable ?? x.process?.name}</td>
                  <td>
                    <Link to={`/findings/${x.fingerprint}`}>{x.rule.name}</Link>
                  </td>
                  <td>
                    <Time iso={x.last_seen} relative />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="panel" aria-labelledby="host-findings">
        <div className="panel-head">
          <h2 id="host-findings">Findings</h2>
          <Link to={`/findings${query({ host: hostName })}`}>All findings of this host</Link>
        </div>
        {f.error && !f.data ? <ErrorNotice error={f.error} what="findings" /> : null}
        {f.data && f.data.items.length === 0 ? <p className="muted">No findings on this host.</p> : null}
        {f.data && f.data.items.length > 0 ? (
          <table className="compact">
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Finding</th>
                <th scope="col">Last seen</th>
                <th scope="col" className="num">
                  Count
                </th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {f.data.items.map((x) => (
                <tr key={x.fingerprint}>
                  <td>
                    <SeverityBadge severity={x.severity} />
                  </td>
                  <td className="finding-cell">
                    <Link to={`/findings/${x.fingerprint}`}>{x.rule.name}</Link>
                    <div className="muted small clip">{x.message}</div>
                  </td>
                  <td>
                    <Time iso={x.last_seen} relative />
                  </td>
                  <td className="num">{x.count}</td>
                  <td>{x.acknowledged ? 'acknowledged' : 'open'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}
