import { type FormEvent, useId, useState } from 'react';
import { ApiError, api, errorText, query } from '../api.ts';
import { SeverityBadge } from '../components/badges.tsx';
import { Link } from '../components/link.tsx';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { Time } from '../components/time.tsx';
import { useLoad } from '../load.ts';
import { navigate } from '../router.ts';
import { canAct, getSession, type Session } from '../session.ts';
import { useLive } from '../stream.ts';
import type { Severity } from '../types.ts';
import { useTitle } from '../use-session.ts';
import { ResponsePanel } from './incident-response.tsx';

/**
 * The incident workflow (docs/incidents.md): a board by phase, each card with
 * its SLA clocks, and one page per incident with its timeline, notes, phase
 * moves and indicators. Everything shown may come from a finding an attacker
 * shaped: it is rendered as text only.
 */

export const PHASES = [
  'discovery',
  'isolation',
  'forensics',
  'eradication',
  'recovery',
  'review',
  'closed',
] as const;
export type Phase = (typeof PHASES)[number];

interface SlaClock {
  due: string | null;
  met_at: string | null;
  breached: boolean;
}
export interface Incident {
  id: string;
  title: string;
  host: string | null;
  hosts: string[];
  campaign: string | null;
  severity: Severity;
  phase: Phase;
  phase_at: string;
  phase_by: string;
  assignee: string | null;
  links: { title: string; url: string }[];
  opened_at: string;
  opened_by: string;
  closed_at: string | null;
  updated_at: string;
  findings: number;
  isolation_due: string | null;
  review_due: string | null;
  breached: ('isolation' | 'review')[];
  sla: { isolation: SlaClock; review: SlaClock };
}
interface TimelineEntry {
  seq: number;
  at: string;
  actor: string;
  kind: string;
  data: Record<string, unknown>;
}
interface IncidentDetail extends Incident {
  timeline: TimelineEntry[];
  finding_fingerprints: string[];
  indicators: { kind: string; value: string; coin: string | null; first_seen: string }[];
}

const LIVE = ['incident', 'incident.sla_breached'] as const;

/** One clock as a person reads it: due in / overdue by / met (late). */
export function Clock({ name, clock }: { name: string; clock: SlaClock }) {
  if (clock.due === null) return <span className="muted small">{name}: not started</span>;
  const due = Date.parse(clock.due);
  const mins = (ms: number): string => {
    const m = Math.round(Math.abs(ms) / 60_000);
    return m >= 120 ? `${Math.round(m / 60)} h` : `${m} min`;
  };
  let text: string;
  if (clock.met_at !== null)
    text = clock.breached ? `met late (${mins(Date.parse(clock.met_at) - due)} over)` : 'met';
  else text = clock.breached ? `overdue by ${mins(Date.now() - due)}` : `due in ${mins(due - Date.now())}`;
  return (
    <span
      className={clock.breached ? 'sla sla-breached' : clock.met_at !== null ? 'sla sla-met' : 'sla'}
      title={`${name} due ${clock.due}`}
    >
      {name}: {text}
    </span>
  );
}

function Clocks({ i }: { i: Incident }) {
  return (
    <div className="sla-clocks">
      <Clock name="isolation" clock={i.sla.isolation} />
      <Clock name="review" clock={i.sla.review} />
    </div>
  );
}

/** Every incident (up to 500, newest first) for the board, or of one host. */
function useIncidents(phase?: string, host?: string) {
  const path = `/incidents${query({ limit: 500, phase, host })}`;
  const r = useLoad(path, (signal) => api<{ items: Incident[]; next: string | null }>(path, { signal }));
  useLive(LIVE, r.reload);
  return r;
}

export function IncidentsPage({ session }: { session: Session }) {
  useTitle('Incidents');
  const r = useIncidents();
  const items = r.data?.items ?? [];
  const [showClosed, setShowClosed] = useState(false);
  const phases = PHASES.filter((p) => showClosed || p !== 'closed');
  return (
    <>
      <div className="page-head">
        <h1>Incidents</h1>
        <label className="inline-field push">
          <input type="checkbox" checked={showClosed} onChange={(e) => setShowClosed(e.target.checked)} />{' '}
          Show closed
        </label>
      </div>
      {canAct(session) ? <OpenForm /> : null}
      {r.error ? <ErrorNotice error={r.error} what="incidents" /> : null}
      {r.loading && !r.data ? <Loading what="incidents" /> : null}
      {r.data ? (
        <div className="board" data-testid="incident-board">
          {phases.map((p) => {
            const here = items.filter((i) => i.phase === p);
            return (
              <section key={p} className="board-col" aria-labelledby={`col-${p}`}>
                <h2 id={`col-${p}`} className="board-head">
                  {p} <span className="muted small">{here.length}</span>
                </h2>
                {here.length === 0 ? <p className="muted small">None.</p> : null}
                <ul className="board-list">
                  {here.map((i) => (
                    <li
                      key={i.id}
                      className={i.breached.length > 0 ? 'card incident-card breached' : 'card incident-card'}
                    >
                      <Link to={`/incidents/${i.id}`} className="incident-title">
                        {i.title}
                      </Link>
                      <div className="small">
                        <SeverityBadge severity={i.severity} />{' '}
                        {i.host ?? <span className="muted">no host</span>} · {i.findings} finding
                        {i.findings === 1 ? '' : 's'}
                      </div>
                      <div className="small muted">
                        opened <Time iso={i.opened_at} relative />
                        {i.assignee ? ` · ${i.assignee}` : ''}
                      </div>
                      {p === 'closed' ? null : <Clocks i={i} />}
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
      ) : null}
    </>
  );
}

function OpenForm() {
  const id = useId();
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const title = String(form.get('title') ?? '').trim();
    const host = String(form.get('host') ?? '').trim();
    const note = String(form.get('note') ?? '').trim();
    if (title === '') {
      setStatus({ ok: false, text: 'A title is needed.' });
      return;
    }
    try {
      const i = await api<Incident>('/incidents', {
        method: 'POST',
        body: { title, ...(host ? { host } : {}), ...(note ? { note } : {}) },
      });
      navigate(`/incidents/${i.id}`);
    } catch (err) {
      setStatus({ ok: false, text: `Could not open it: ${errorText(err)}` });
    }
  };
  return (
    <details className="card">
      <summary>Open an incident (a user's report)</summary>
      <form className="filters" onSubmit={(e) => void submit(e)}>
        <div className="field">
          <label htmlFor={`${id}-title`}>Title</label>
          <input id={`${id}-title`} name="title" maxLength={300} required />
        </div>
        <div className="field">
          <label htmlFor={`${id}-host`}>Host</label>
          <input id={`${id}-host`} name="host" maxLength={253} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-note`}>What was reported</label>
          <input id={`${id}-note`} name="note" maxLength={10000} />
        </div>
        <div className="field field-button">
          <button type="submit" className="primary">
            Open
          </button>
        </div>
      </form>
      <output className={status && !status.ok ? 'error-text' : 'ok-text'}>{status?.text ?? ''}</output>
    </details>
  );
}

function entryText(e: TimelineEntry): string {
  const d = e.data;
  const s = (v: unknown): string => (v === null || v === undefined ? '—' : String(v));
  switch (e.kind) {
    case 'opened':
      return `Opened: ${s(d.title)}${d.note ? ` — ${s(d.note)}` : ''}`;
    case 'finding':
      return `Finding joined: [${s(d.severity)}] ${s(d.rule_name)} — ${s(d.message)}`;
    case 'note':
      return s(d.text);
    case 'phase':
      return `Phase ${s(d.from)} → ${s(d.to)}${d.note ? ` — ${s(d.note)}` : ''}`;
    case 'assignment':
      return `Assigned to ${s(d.to)}`;
    case 'update':
      return `Changed ${s(d.field)}`;
    case 'action':
      return `Action ${s(d.action)} ${JSON.stringify(d.detail ?? {})}`;
    case 'campaign':
      return `Linked to campaign ${s(d.campaign)}`;
    case 'sla_breached':
      return `SLA breached: ${s(d.clock)} was due ${s(d.due)}`;
    default:
      return e.kind;
  }
}

export function IncidentPage({ id, session }: { id: string; session: Session }) {
  const path = `/incidents/${encodeURIComponent(id)}`;
  const r = useLoad(path, (signal) => api<IncidentDetail>(path, { signal }));
  useTitle(r.data ? r.data.title : 'Incident');
  useLive(LIVE, r.reload, (e) => {
    const d = e.data as { id?: string; incident?: string } | null;
    return d?.id === id || d?.incident === id;
  });
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const formId = useId();
  const act = async (what: string, run: () => Promise<unknown>): Promise<void> => {
    try {
      await run();
      setStatus({ ok: true, text: `${what}: done.` });
      r.reload();
    } catch (err) {
      setStatus({ ok: false, text: `${what}: ${errorText(err)}` });
    }
  };
  const d = r.data;
  const next = d ? PHASES.slice(PHASES.indexOf(d.phase) + 1) : [];
  return (
    <>
      <p className="crumbs">
        <Link to="/incidents">Incidents</Link> ›
      </p>
      {r.error && !d ? (
        r.error instanceof ApiError && r.error.status === 404 ? (
          <div className="notice">No incident has this id.</div>
        ) : (
          <ErrorNotice error={r.error} what="the incident" />
        )
      ) : null}
      {r.loading && !d && !r.error ? <Loading what="the incident" /> : null}
      {d ? (
        <article data-testid="incident-detail">
          <div className="page-head">
            <h1>{d.title}</h1>
            <SeverityBadge severity={d.severity} />
            <span className="status status-open">{d.phase}</span>
          </div>
          <Clocks i={d} />
          <dl className="facts">
            <div>
              <dt>Host</dt>
              <dd>{d.host ? <Link to={`/hosts?text=${encodeURIComponent(d.host)}`}>{d.host}</Link> : '—'}</dd>
            </div>
            <div>
              <dt>Opened</dt>
              <dd>
                <Time iso={d.opened_at} /> by {d.opened_by}
              </dd>
            </div>
            <div>
              <dt>Phase since</dt>
              <dd>
                <Time iso={d.phase_at} /> by {d.phase_by}
              </dd>
            </div>
            <div>
              <dt>Assignee</dt>
              <dd>{d.assignee ?? '—'}</dd>
            </div>
            <div>
              <dt>Campaign</dt>
              <dd>{d.campaign ?? '—'}</dd>
            </div>
            <div>
              <dt>Report</dt>
              <dd>
                <button type="button" onClick={() => void act('Report', () => downloadReport(d.id))}>
                  Download (Markdown)
                </button>
              </dd>
            </div>
          </dl>
          {canAct(session) ? (
            <section className="card" aria-labelledby={`${formId}-act`}>
              <h2 id={`${formId}-act`}>Work on it</h2>
              <div className="toolbar">
                {d.phase === 'closed' ? (
                  <button
                    type="button"
                    onClick={() =>
                      void act('Reopen', () =>
                        api(`${path}/phase`, { method: 'POST', body: { to: 'discovery' } }),
                      )
                    }
                  >
                    Reopen
                  </button>
                ) : (
                  next.map((p) => (
                    <button
                      key={p}
                      type="button"
                      className={p === next[0] ? 'primary' : ''}
                      data-phase={p}
                      onClick={() =>
                        void act(`Move to ${p}`, () =>
                          api(`${path}/phase`, { method: 'POST', body: { to: p } }),
                        )
                      }
                    >
                      {p === next[0] ? `Move to ${p}` : p}
                    </button>
                  ))
                )}
              </div>
              <form
                className="filters"
                onSubmit={(e) => {
                  e.preventDefault();
                  const form = e.currentTarget;
                  const text = String(new FormData(form).get('note') ?? '').trim();
                  if (text === '') return;
                  void act('Note', () => api(`${path}/notes`, { method: 'POST', body: { text } })).then(() =>
                    form.reset(),
                  );
                }}
              >
                <div className="field">
                  <label htmlFor={`${formId}-note`}>Note</label>
                  <input id={`${formId}-note`} name="note" maxLength={10000} />
                </div>
                <div className="field field-button">
                  <button type="submit">Add note</button>
                </div>
              </form>
              <form
                className="filters"
                onSubmit={(e) => {
                  e.preventDefault();
                  const v = String(new FormData(e.currentTarget).get('assignee') ?? '').trim();
                  void act('Assign', () =>
                    api(path, { method: 'PATCH', body: { assignee: v === '' ? null : v } }),
                  );
                }}
              >
                <div className="field">
                  <label htmlFor={`${formId}-assignee`}>Assignee</label>
                  <input
                    id={`${formId}-assignee`}
                    name="assignee"
                    maxLength={200}
                    defaultValue={d.assignee ?? ''}
                  />
                </div>
                <div className="field field-button">
                  <button type="submit">Assign</button>
                </div>
              </form>
              <output className={status && !status.ok ? 'error-text' : 'ok-text'}>
                {status?.text ?? ''}
              </output>
            </section>
          ) : null}
          <ResponsePanel id={d.id} host={d.host} closed={d.phase === 'closed'} session={session} />
          <section className="panel" aria-labelledby={`${formId}-ind`}>
            <h2 id={`${formId}-ind`}>Indicators</h2>
            {d.indicators.length === 0 ? (
              <p className="muted">None yet.</p>
            ) : (
              <table className="data">
                <thead>
                  <tr>
                    <th scope="col">kind</th>
                    <th scope="col">value</th>
                    <th scope="col">coin</th>
                  </tr>
                </thead>
                <tbody>
                  {d.indicators.map((i) => (
                    <tr key={`${i.kind}:${i.value}`}>
                      <td>{i.kind}</td>
                      <td className="mono break">{i.value}</td>
                      <td>{i.coin ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="panel" aria-labelledby={`${formId}-tl`}>
            <h2 id={`${formId}-tl`}>Timeline</h2>
            <ol className="timeline">
              {d.timeline.map((e) => (
                <li key={e.seq} className={`tl tl-${e.kind}`}>
                  <Time iso={e.at} /> <span className="muted small">{e.actor}</span>
                  <div className="break">
                    {e.kind === 'finding' && typeof e.data.fingerprint === 'string' ? (
                      <Link to={`/findings/${e.data.fingerprint}`}>{entryText(e)}</Link>
                    ) : (
                      entryText(e)
                    )}
                  </div>
                </li>
              ))}
            </ol>
          </section>
        </article>
      ) : null}
    </>
  );
}

/** The report is behind the bearer token: fetched with it, then saved from a blob. */
async function downloadReport(id: string): Promise<void> {
  const token = getSession()?.token;
  const res = await fetch(`/api/v1/incidents/${encodeURIComponent(id)}/report`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    cache: 'no-store',
  });
  if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, `the server answered ${res.status}`);
  const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/markdown' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `${id}.md`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The overview's panel (and a host page's, with `host`): open incidents by phase, each with its clocks. */
export function OpenIncidentsPanel({ host }: { host?: string } = {}) {
  const r = useIncidents(undefined, host);
  if (r.error) return <ErrorNotice error={r.error} what="incidents" />;
  if (!r.data) return <Loading what="incidents" />;
  const open = r.data.items.filter((i) => i.phase !== 'closed');
  if (open.length === 0) return <p className="muted">No open incidents.</p>;
  return (
    <table className="data" data-testid="open-incidents">
      <thead>
        <tr>
          <th scope="col">phase</th>
          <th scope="col">incident</th>
          <th scope="col">SLA</th>
        </tr>
      </thead>
      <tbody>
        {PHASES.filter((p) => p !== 'closed').flatMap((p) =>
          open
            .filter((i) => i.phase === p)
            .map((i) => (
              <tr key={i.id}>
                <td>{p}</td>
                <td>
                  <Link to={`/incidents/${i.id}`}>{i.title}</Link>
                  <div className="muted small">{i.host ?? ''}</div>
                </td>
                <td>
                  <Clocks i={i} />
                </td>
              </tr>
            )),
        )}
      </tbody>
    </table>
  );
}
