import { useEffect, useId, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import { api } from '../api.ts';
import { SeverityBadge } from '../components/badges.tsx';
import { Chart, type ChartOptions, SEVERITY_COLORS } from '../components/chart.tsx';
import { Link } from '../components/link.tsx';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { Techniques } from '../components/technique.tsx';
import { Time } from '../components/time.tsx';
import { attackUrl, count } from '../format.ts';
import { useLoad } from '../load.ts';
import { navigate, useLocation, withQuery } from '../router.ts';
import { useLive } from '../stream.ts';
import { type Overview, SEVERITIES, type Severity } from '../types.ts';
import { useTitle } from '../use-session.ts';
import { OpenIncidentsPanel } from './incidents.tsx';
import { MonthCost } from './overview-cost.tsx';

const RANGES = [
  { id: '24h', label: 'last 24 hours' },
  { id: '7d', label: 'last 7 days' },
  { id: '30d', label: 'last 30 days' },
] as const;
type Range = (typeof RANGES)[number]['id'];

/** The mark the render benchmark reads: navigation start → the overview's data on screen. */
export const OVERVIEW_MARK = 'overview-rendered';

export function OverviewPage() {
  useTitle('Overview');
  const id = useId();
  const loc = useLocation();
  const asked = loc.query.get('range');
  const range: Range = RANGES.some((r) => r.id === asked) ? (asked as Range) : '24h';
  const { data, error, loading, reload } = useLoad(`overview:${range}`, (signal) =>
    api<Overview>(`/overview?range=${range}`, { signal }),
  );
  useLive(['finding', 'host'], reload, undefined, 3000);

  useEffect(() => {
    if (data && performance.getEntriesByName(OVERVIEW_MARK).length === 0) performance.mark(OVERVIEW_MARK);
  }, [data]);

  return (
    <>
      <div className="page-head">
        <h1>Overview</h1>
        <div className="inline-field push">
          <label htmlFor={`${id}-range`}>Period</label>
          <select
            id={`${id}-range`}
            value={range}
            onChange={(e) =>
              navigate(withQuery(loc, { range: e.target.value === '24h' ? undefined : e.target.value }))
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
      {error && !data ? <ErrorNotice error={error} what="the overview" /> : null}
      {loading && !data && !error ? <Loading what="the overview" /> : null}
      {data ? <OverviewBody data={data} range={range} /> : null}
    </>
  );
}

function OverviewBody({ data, range }: { data: Overview; range: Range }) {
  const open = data.open_by_severity;
  const openTotal = SEVERITIES.reduce((n, s) => n + (open[s] ?? 0), 0);
  return (
    <div className="overview" data-testid="overview">
      <section className="cards" aria-label="At a glance">
        <div className="card">
          <h2>Hosts</h2>
          <ul className="stat-list">
            <Stat
              to="/hosts?status=reporting"
              n={data.hosts.reporting}
              label="reporting"
              cls="stat-reporting"
            />
            <Stat to="/hosts?status=stale" n={data.hosts.stale} label="stale" cls="stat-stale" />
            <Stat to="/hosts?status=offline" n={data.hosts.offline} label="offline" cls="stat-offline" />
            <Stat to="/hosts" n={data.hosts.total} label="in all" />
          </ul>
        </div>
        <div className="card">
          <h2>Open findings</h2>
          <ul className="stat-list">
            {SEVERITIES.filter((s) => s !== 'info' || (open.info ?? 0) > 0).map((s) => (
              <Stat
                key={s}
                to={s === 'info' ? '/findings' : `/findings?severity=${s}`}
                n={open[s] ?? 0}
                label={s}
                cls={`sev-text-${s}`}
              />
            ))}
            <Stat to="/findings" n={openTotal} label="in all" />
          </ul>
        </div>
        <div className="card card-wide">
          <h2>Active miners now</h2>
          <ActiveMiners miners={data.active_miners} />
        </div>
      </section>

      <section className="panel" aria-labelledby="fot">
        <h2 id="fot">Findings over time</h2>
        <FindingsChart series={data.findings_over_time} range={range} />
      </section>

      <div className="two-col">
        <section className="panel" aria-labelledby="top-rules">
          <h2 id="top-rules">Top rules</h2>
          {data.top_rules.length === 0 ? (
            <p className="muted">No rule fired in this period.</p>
          ) : (
            <table className="compact">
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col" className="num">
                    Findings
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.top_rules.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link to={`/findings?rule=${encodeURIComponent(r.id)}`}>{r.name}</Link>
                      <div className="muted small mono">{r.id}</div>
                    </td>
                    <td className="num">{count(r.count)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="panel" aria-labelledby="top-tech">
          <h2 id="top-tech">Top ATT&amp;CK techniques</h2>
          {data.top_techniques.length === 0 ? (
            <p className="muted">No technique in this period.</p>
          ) : (
            <table className="compact">
              <thead>
                <tr>
                  <th scope="col">Technique</th>
                  <th scope="col" className="num">
                    Findings
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.top_techniques.map((t) => (
                  <tr key={t.id}>
                    <td>
                      {attackUrl(t.id) ? <Techniques ids={[t.id]} /> : t.id}{' '}
                      <Link to={`/findings?technique=${encodeURIComponent(t.id)}`} className="small">
                        findings
                      </Link>
                    </td>
                    <td className="num">{count(t.count)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>

      <div className="two-col">
        <section className="panel" aria-labelledby="inc">
          <h2 id="inc">Open incidents and SLA clocks</h2>
          <OpenIncidentsPanel />
        </section>
        <section className="panel" aria-labelledby="cost">
          <h2 id="cost">Cost this month</h2>
          <MonthCost />
        </section>
      </div>

      <section className="panel" aria-labelledby="intel">
        <h2 id="intel">Threat-intel feeds</h2>
        <IntelFeeds intel={data.intel} />
      </section>
      <p className="muted small">
        Figures as of <Time iso={data.generated_at} />.
      </p>
    </div>
  );
}

function Stat({ to, n, label, cls }: { to: string; n: number; label: string; cls?: string }) {
  return (
    <li>
      <Link to={to} className="stat">
        <span className={`stat-n ${cls ?? ''}`}>{count(n)}</span> <span className="stat-label">{label}</span>
      </Link>
    </li>
  );
}

function ActiveMiners({ miners }: { miners: Overview['active_miners'] }) {
  if (miners.length === 0)
    return (
      <p className="ok-text">
        No high or critical finding in the last 15 minutes: no host is known to be mining now.
      </p>
    );
  return (
    <table className="compact" data-testid="active-miners">
      <thead>
        <tr>
          <th scope="col">Host</th>
          <th scope="col">Finding</th>
          <th scope="col">Severity</th>
          <th scope="col">Last seen</th>
        </tr>
      </thead>
      <tbody>
        {miners.map((m) => (
          <tr key={m.fingerprint}>
            <td>
              {m.host_id ? <Link to={`/hosts/${encodeURIComponent(m.host_id)}`}>{m.host}</Link> : m.host}
            </td>
            <td>
              <Link to={`/findings/${m.fingerprint}`}>{m.rule.name}</Link>
            </td>
            <td>
              <SeverityBadge severity={m.severity} />
            </td>
            <td>
              <Time iso={m.last_seen} relative />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Bottom to top of the stack: the most severe first, so it is never hidden under the others. */
const STACK: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

function toSeconds(t: string | number): number {
  if (typeof t === 'number') return t > 1e11 ? t / 1000 : t;
  return Date.parse(t) / 1000;
}

/**
 * Findings per bucket by severity, stacked: each series is drawn as the sum
 * of itself and everything below it, the tallest first, so the later, smaller
 * ones paint over it; the legend shows each severity's own count.
 */
function FindingsChart({ series, range }: { series: Overview['findings_over_time']; range: Range }) {
  const hasInfo = series.series.some((p) => (p.info ?? 0) > 0);
  const key = STACK.filter((s) => s !== 'info' || hasInfo).join(',');
  const rawRef = useRef<Record<string, number[]>>({});
  const { data, raw, total, shown } = useMemo(() => {
    const shown = key.split(',') as Severity[];
    const xs = series.series.map((p) => toSeconds(p.t));
    const raw: Record<string, number[]> = {};
    const cum: number[][] = [];
    let running = xs.map(() => 0);
    for (const s of shown) {
      const own = series.series.map((p) => p[s] ?? 0);
      raw[s] = own;
      running = running.map((v, i) => v + own[i]!);
      cum.push(running);
    }
    const total = running.reduce((a, b) => a + b, 0);
    // Drawn tallest (all severities) first.
    return { data: [xs, ...[...cum].reverse()] as uPlot.AlignedData, raw, total, shown };
  }, [series, key]);
  rawRef.current = raw;
  const bucket = series.bucket_s;
  const options = useMemo<ChartOptions>(() => {
    const order = key.split(',').reverse() as Severity[];
    const bars = uPlot.paths.bars?.({ size: [0.9, 40], align: 1 });
    return {
      scales: {
        // Each x is a bucket's start and its bar spans the bucket: the axis runs to the end of the last one.
        x: { time: true, range: (_u, min, max) => [min, max + bucket] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      },
      axes: [{}, { label: 'findings', size: 50 }],
      legend: { live: true },
      cursor: { points: { show: false } },
      series: [
        { label: 'time' },
        ...order.map((s) => ({
          label: s,
          stroke: SEVERITY_COLORS[s],
          fill: SEVERITY_COLORS[s],
          // No outline: an empty bucket would otherwise show a line along the axis.
          width: 0,
          points: { show: false },
          ...(bars ? { paths: bars } : {}),
          value: (_u: uPlot, v: number | null, _si: number, idx: number | null) =>
            idx === null || v === null ? '—' : String(rawRef.current[s]?.[idx] ?? 0),
        })),
      ],
    };
  }, [key, bucket]);
  if (series.series.length === 0) return <p className="muted">No findings in this period.</p>;
  const label = RANGES.find((r) => r.id === range)?.label ?? range;
  return (
    <Chart
      caption={`Findings per ${bucketLabel(series.bucket_s)}, ${label}, stacked by severity`}
      summary={`${total} findings in the ${label}: ${shown.map((s) => `${raw[s]!.reduce((a, b) => a + b, 0)} ${s}`).join(', ')}.`}
      options={options}
      data={data}
      height={200}
    />
  );
}

function bucketLabel(s: number): string {
  if (s % 86_400 === 0) return s === 86_400 ? 'day' : `${s / 86_400} days`;
  if (s % 3600 === 0) return s === 3600 ? 'hour' : `${s / 3600} hours`;
  if (s % 60 === 0) return s === 60 ? 'minute' : `${s / 60} minutes`;
  return `${s} s`;
}

function IntelFeeds({ intel }: { intel: Overview['intel'] }) {
  if (!intel || intel.feeds.length === 0)
    return (
      <p className="muted">
        No threat-intel feed is configured on this server (<code>deminer intel update</code> loads them).
      </p>
    );
  return (
    <table className="compact">
      <thead>
        <tr>
          <th scope="col">Feed</th>
          <th scope="col">Health</th>
          <th scope="col">Last success</th>
          <th scope="col" className="num">
            Indicators
          </th>
          <th scope="col">Message</th>
        </tr>
      </thead>
      <tbody>
        {intel.feeds.map((f) => (
          <tr key={f.name}>
            <td>{f.name}</td>
            <td>
              <span className={f.ok ? 'status status-reporting' : 'status status-offline'}>
                {f.ok ? 'ok' : 'failing'}
              </span>
            </td>
            <td>
              <Time iso={f.last_success} relative />
            </td>
            <td className="num">{f.indicators === null ? '—' : count(f.indicators)}</td>
            <td>{f.message ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
