import { useEffect, useId, useMemo, useState } from 'react';
import { ApiError, query } from '../api.ts';
import { SeverityBadge } from '../components/badges.tsx';
import { Link } from '../components/link.tsx';
import { ErrorNotice, Loading, Placeholder } from '../components/notice.tsx';
import { type Order, SortHeader } from '../components/sort-header.tsx';
import { Techniques } from '../components/technique.tsx';
import { Time } from '../components/time.tsx';
import { count } from '../format.ts';
import { useLoad } from '../load.ts';
import { navigate, useLocation, withQuery } from '../router.ts';
import { reloadRules } from '../rules-cache.ts';
import { useLive } from '../stream.ts';
import type { Rule } from '../types.ts';
import { useTitle } from '../use-session.ts';

const SORTS: Record<string, (a: Rule, b: Rule) => number> = {
  name: (a, b) => a.name.localeCompare(b.name),
  id: (a, b) => a.id.localeCompare(b.id),
  fired: (a, b) => a.fired - b.fired,
  last_fired: (a, b) => (a.last_fired ?? '').localeCompare(b.last_fired ?? ''),
};

/** The rule catalog: a few hundred entries at most, so it is filtered and sorted here, not paged. */
export function RulesPage() {
  useTitle('Rules');
  const id = useId();
  const loc = useLocation();
  const text = loc.query.get('q') ?? '';
  const ruleset = loc.query.get('ruleset') ?? '';
  const sort = loc.query.get('sort') ?? 'fired';
  const order: Order = loc.query.get('order') === 'asc' ? 'asc' : 'desc';
  const r = useLoad('rules', () => reloadRules());
  useLive(['finding'], r.reload, undefined, 5000);

  const [draft, setDraft] = useState(text);
  useEffect(() => setDraft(text), [text]);

  const rows = useMemo(() => {
    const needle = text.toLowerCase();
    const list = (r.data ?? []).filter(
      (x) =>
        (ruleset === '' || x.ruleset === ruleset) &&
        (needle === '' ||
          x.id.toLowerCase().includes(needle) ||
          x.name.toLowerCase().includes(needle) ||
          x.techniques.some((t) => t.toLowerCase().includes(needle))),
    );
    const cmp = SORTS[sort] ?? SORTS.fired!;
    return list.sort((a, b) => (order === 'asc' ? cmp(a, b) : cmp(b, a)) || a.id.localeCompare(b.id));
  }, [r.data, text, ruleset, sort, order]);
  const rulesets = [...new Set((r.data ?? []).map((x) => x.ruleset))].sort();
  const onSort = (field: string, o: Order): void =>
    navigate(withQuery(loc, { sort: field, order: o }), { replace: true });

  if (r.error instanceof ApiError && r.error.status === 404) {
    return (
      <>
        <h1>Rules</h1>
        <Placeholder title="This server has no rule catalog endpoint">
          The rule catalog (GET /api/v1/rules) is not in this server's API; update deminer, or run{' '}
          <code>deminer rules</code> on the command line.
        </Placeholder>
      </>
    );
  }
  return (
    <>
      <div className="page-head">
        <h1>Rules</h1>
        {r.data ? (
          <span className="muted">
            {rows.length} of {r.data.length} rules
          </span>
        ) : null}
      </div>
      <search aria-label="Rules">
        <form
          className="filters"
          onSubmit={(e) => {
            e.preventDefault();
            navigate(withQuery(loc, { q: draft.trim() }), { replace: true });
          }}
        >
          <div className="field">
            <label htmlFor={`${id}-q`}>Search</label>
            <input
              id={`${id}-q`}
              type="search"
              value={draft}
              placeholder="id, name or technique"
              onChange={(e) => setDraft(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-rs`}>Source</label>
            <select
              id={`${id}-rs`}
              value={ruleset}
              onChange={(e) => navigate(withQuery(loc, { ruleset: e.target.value }), { replace: true })}
            >
              <option value="">all</option>
              {rulesets.map((s) => (
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
      {r.error ? <ErrorNotice error={r.error} what="the rule catalog" /> : null}
      {r.loading && !r.data && !r.error ? <Loading what="rules" /> : null}
      {r.data ? (
        <table className="data rules" data-testid="rules-table">
          <caption className="visually-hidden">Rule catalog</caption>
          <thead>
            <tr>
              <SortHeader field="name" sort={sort} order={order} onSort={onSort} defaultOrder="asc">
                Rule
              </SortHeader>
              <th scope="col">Source</th>
              <th scope="col">Severity</th>
              <th scope="col">Techniques</th>
              <SortHeader field="fired" sort={sort} order={order} onSort={onSort}>
                Fired
              </SortHeader>
              <SortHeader field="last_fired" sort={sort} order={order} onSort={onSort}>
                Last fired
              </SortHeader>
              <th scope="col">Triage</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={7} className="muted">
                  No rule matches.
                </td>
              </tr>
            ) : null}
            {rows.map((x) => (
              <tr key={x.id}>
                <th scope="row">
                  {x.name}
                  <div className="muted small mono break">{x.id}</div>
                </th>
                <td>{x.ruleset}</td>
                <td className="nowrap">
                  <SeverityBadge severity={x.severity.min} />
                  {x.severity.max !== x.severity.min ? (
                    <>
                      {' – '}
                      <SeverityBadge severity={x.severity.max} />
                    </>
                  ) : null}
                </td>
                <td>
                  <Techniques ids={x.techniques} />
                </td>
                <td className="num">
                  {x.fired > 0 ? (
                    <Link to={`/findings${query({ rule: x.id, state: 'all' })}`}>{count(x.fired)}</Link>
                  ) : (
                    '0'
                  )}
                </td>
                <td>
                  <Time iso={x.last_fired} relative />
                </td>
                <td className="triage-cell">
                  <details>
                    <summary>Read</summary>
                    <p>{x.triage}</p>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
