import { api } from '../api.ts';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { count } from '../format.ts';
import { useLoad } from '../load.ts';

/**
 * The overview's "cost this month": the server's monthly summary
 * (`GET /reports/month/{YYYY-MM}`, docs/incidents.md) of the incidents
 * opened this month (UTC), with what their miners cost. Measured figures
 * only: incidents without samples are counted as not measured, never as 0.
 */

interface MeanTime {
  mean_s: number | null;
  n: number;
}

interface MonthlySummary {
  month: string;
  incidents: number;
  time_to_isolate: MeanTime;
  sla_breaches: { isolation: number; review: number };
  impact: {
    computed: number;
    measured: number;
    not_measured: number;
    cpu_seconds: number;
    energy_kwh: number;
    cost: number;
    currency: string;
  };
  hosts: { count: number };
}

function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Small amounts keep their significant digits: a miner caught in minutes costs fractions of a cent. */
function money(v: number, currency: string): string {
  const digits = v >= 1 ? 2 : Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(v || 1))));
  return `${v.toFixed(digits)} ${currency}`;
}

export function MonthCost({ now = new Date() }: { now?: Date }) {
  const month = now.toISOString().slice(0, 7);
  const path = `/reports/month/${month}?format=json`;
  const r = useLoad(path, (signal) => api<MonthlySummary>(path, { signal }));
  if (r.error && !r.data) return <ErrorNotice error={r.error} what="this month's summary" />;
  if (!r.data) return <Loading what="this month's summary" />;
  const m = r.data;
  if (m.incidents === 0)
    return <p className="muted">No incident opened in {month} (UTC): nothing to cost.</p>;
  const i = m.impact;
  return (
    <dl className="facts" data-testid="month-cost">
      <dt>Incidents</dt>
      <dd>
        {count(m.incidents)} opened, {count(m.hosts.count)} host{m.hosts.count === 1 ? '' : 's'}
      </dd>
      <dt>Cost</dt>
      <dd>
        {i.measured > 0 ? money(i.cost, i.currency) : 'not measured'}
        {i.not_measured > 0 ? <span className="muted small"> ({i.not_measured} without samples)</span> : null}
      </dd>
      <dt>CPU time</dt>
      <dd>
        {i.measured > 0 ? `${duration(i.cpu_seconds)} of CPU, ${i.energy_kwh.toPrecision(3)} kWh` : '—'}
      </dd>
      <dt>Time to isolate</dt>
      <dd>{m.time_to_isolate.mean_s === null ? '—' : `${duration(m.time_to_isolate.mean_s)} on average`}</dd>
      <dt>SLA breaches</dt>
      <dd>
        {m.sla_breaches.isolation} isolation, {m.sla_breaches.review} review
      </dd>
    </dl>
  );
}
