import { type FormEvent, useId, useState } from 'react';
import { api, query } from '../api.ts';
import { SeverityCountsCell, StatusBadge } from '../components/badges.tsx';
import { Link } from '../components/link.tsx';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { Pager } from '../components/pager.tsx';
import { type Order, SortHeader } from '../components/sort-header.tsx';
import { Sparkline } from '../components/sparkline.tsx';
import { Time } from '../components/time.tsx';
import { useLoad } from '../load.ts';
import { usePaging } from '../paging.ts';
import { navigate, useLocation, withQuery } from '../router.ts';
import { useLive } from '../stream.ts';
import type { Host, Page } from '../types.ts';
import { useTitle } from '../use-session.ts';

const PAGE = 50;
const STATUSES = ['reporting', 'stale', 'offline'] as const;

export function HostsPage() {
  useTitle('Hosts');
  const id = useId();
  const loc = useLocation();
  const q = loc.query;
  const text = q.get('text') ?? '';
  const status = q.get('status') ?? '';
  // The server's order unless the address says otherwise: by name, A to Z.
  const asked = q.get('sort');
  const sortParam =
    asked !== null && ['name', 'last_seen', 'status', 'open'].includes(asked) ? asked : undefined;
  const orderParam =
    q.get('order') === 'asc' || q.get('order') === 'desc' ? (q.get('order') as Order) : undefined;
  const sort = sortParam ?? 'name';
  const order: Order =
    q.get('order') === 'desc' ? 'desc' : q.get('order') === 'asc' || !sortParam ? 'asc' : 'desc';
  const { cursor, history, onPage } = usePaging(loc);
  const path = `/hosts${query({
    text,
    status,
    sort: sortParam,
    order: orderParam,
    limit: PAGE,
    cursor,
  })}`;
  const { data, error, loading, reload } = useLoad(path, (signal) => api<Page<Host>>(path, { signal }));
  useLive(['host', 'finding'], reload, undefined, 1500);

  const [draft, setDraft] = useState(text);
  const [draftFor, setDraftFor] = useState(text);
  if (draftFor !== text) {
    // The address changed (back button, a link): the search box follows it.
    setDraftFor(text);
    setDraft(text);
  }
  const search = (e: FormEvent): void => {
    e.preventDefault();
    navigate(withQuery(loc, { text: draft.trim(), cursor: undefined }));
  };
  const onSort = (field: string, o: Order): void =>
    navigate(withQuery(loc, { sort: field, order: o, cursor: undefined }));

  return (
    <>
      <div className="page-head">
        <h1>Hosts</h1>
      </div>
      <search aria-label="Hosts">
        <form className="filters" onSubmit={search}>
          <div className="field">
            <label htmlFor={`${id}-text`}>Search</label>
            <input
              id={`${id}-text`}
              type="search"
              value={draft}
              placeholder="name or address"
              onChange={(e) => setDraft(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-status`}>Status</label>
            <select
              id={`${id}-status`}
              value={status}
              onChange={(e) => navigate(withQuery(loc, { status: e.target.value, cursor: undefined }))}
            >
              <option value="">any</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div className="field field-button">
            <button type="submit">Search</button>
          </div>
        </form>
      </search>
      {error ? <ErrorNotice error={error} what="hosts" /> : null}
      {loading && !data && !error ? <Loading what="hosts" /> : null}
      {data ? (
        <>
          <table className="data" data-testid="hosts-table">
            <caption className="visually-hidden">Hosts{text ? ` matching “${text}”` : ''}</caption>
            <thead>
              <tr>
                <SortHeader field="name" sort={sort} order={order} onSort={onSort} defaultOrder="asc">
                  Host
                </SortHeader>
                <SortHeader field="status" sort={sort} order={order} onSort={onSort} defaultOrder="asc">
                  Status
                </SortHeader>
                <SortHeader field="last_seen" sort={sort} order={order} onSort={onSort}>
                  Last seen
                </SortHeader>
                <th scope="col">OS</th>
                <th scope="col">CPU (recent)</th>
                <SortHeader field="open" sort={sort} order={order} onSort={onSort}>
                  Open findings
                </SortHeader>
              </tr>
            </thead>
            <tbody>
              {data.items.length === 0 ? (
                <tr>
                  <td colSpan={6} className="muted">
                    {text || status
                      ? 'No host matches.'
                      : 'No host has reported yet: start an agent (Settings → enrolment).'}
                  </td>
                </tr>
              ) : null}
              {data.items.map((h) => (
                <tr key={h.id} data-host={h.name}>
                  <th scope="row">
                    <Link to={`/hosts/${encodeURIComponent(h.id)}`}>{h.name}</Link>
                    {h.addresses.length > 0 ? (
                      <div className="muted small">{h.addresses.slice(0, 2).join(', ')}</div>
                    ) : null}
                  </th>
                  <td>
                    <StatusBadge status={h.status} />
                  </td>
                  <td>
                    <Time iso={h.last_seen} relative />
                  </td>
                  <td>{h.os ?? <span className="muted">—</span>}</td>
                  <td>
                    <Sparkline values={h.cpu_recent} />
                  </td>
                  <td>
                    <SeverityCountsCell counts={h.open_findings} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            cursor={cursor}
            next={data.next}
            history={history}
            onPage={onPage}
            shown={data.items.length}
            label="Hosts"
          />
        </>
      ) : null}
    </>
  );
}
