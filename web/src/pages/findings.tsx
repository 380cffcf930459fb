import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { api, errorText, query } from '../api.ts';
import { SeverityBadge } from '../components/badges.tsx';
import { Link } from '../components/link.tsx';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { Pager } from '../components/pager.tsx';
import { type Order, SortHeader } from '../components/sort-header.tsx';
import { Time } from '../components/time.tsx';
import { useLoad } from '../load.ts';
import { usePaging } from '../paging.ts';
import { navigate, useLocation, withQuery } from '../router.ts';
import { loadRules } from '../rules-cache.ts';
import { canAct, type Session } from '../session.ts';
import { useLive } from '../stream.ts';
import { FINDING_SEVERITIES, type Finding, type Page, type Rule } from '../types.ts';
import { useTitle } from '../use-session.ts';

const PAGE = 50;
export const TIME_RANGES = [
  { id: '1h', label: 'last hour', ms: 3600_000 },
  { id: '24h', label: 'last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'last 7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: 'last 30 days', ms: 30 * 86_400_000 },
] as const;
const STATES = [
  { id: 'open', label: 'open', acknowledged: 'false' },
  { id: 'acknowledged', label: 'acknowledged', acknowledged: 'true' },
  { id: 'all', label: 'open and acknowledged', acknowledged: undefined },
] as const;

/** The list's last address, for the detail page's way back. */
export let lastFindingsList = '/findings';

export function FindingsPage({ session }: { session: Session }) {
  useTitle('Findings');
  const id = useId();
  const loc = useLocation();
  const q = loc.query;
  lastFindingsList = loc.key;
  const severities = (q.get('severity') ?? '')
    .split(',')
    .filter((s): s is (typeof FINDING_SEVERITIES)[number] =>
      (FINDING_SEVERITIES as readonly string[]).includes(s),
    );
  const text = q.get('text') ?? '';
  const rule = q.get('rule') ?? '';
  const host = q.get('host') ?? '';
  const technique = q.get('technique') ?? '';
  const rangeId = q.get('range') ?? '';
  const range = TIME_RANGES.find((r) => r.id === rangeId);
  const stateId = q.get('state') ?? 'open';
  const state = STATES.find((s) => s.id === stateId) ?? STATES[0];
  // The server's order unless the address says otherwise: last seen, newest first.
  const asked = q.get('sort');
  const sortParam =
    asked !== null && ['last_seen', 'first_seen', 'severity', 'count'].includes(asked) ? asked : undefined;
  const orderParam =
    q.get('order') === 'asc' || q.get('order') === 'desc' ? (q.get('order') as Order) : undefined;
  const sort = sortParam ?? 'last_seen';
  const order: Order = q.get('order') === 'asc' ? 'asc' : 'desc';
  const { cursor, history, onPage } = usePaging(loc);

  const params = {
    severity: severities.join(','),
    rule,
    host,
    technique,
    text,
    acknowledged: state.acknowledged,
    sort: sortParam,
    order: orderParam,
    limit: PAGE,
    cursor,
  };
  const key = `${query(params)}|${range?.id ?? ''}`;
  const { data, error, loading, reload } = useLoad(key, (signal) =>
    api<Page<Finding>>(
      `/findings${query({ ...params, from: range ? new Date(Date.now() - range.ms).toISOString() : undefined })}`,
      { signal },
    ),
  );
  useLive(['finding'], reload);

  // Rows that arrived with a live update are marked for a moment.
  const seen = useRef<{ key: string; fps: Set<string> } | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  useEffect(() => {
    if (!data) return;
    const fps = new Set(data.items.map((f) => f.fingerprint));
    const before = seen.current;
    if (before && before.key === key) {
      const added = new Set([...fps].filter((f) => !before.fps.has(f)));
      if (added.size > 0) setFresh(added);
    } else setFresh(new Set());
    seen.current = { key, fps };
  }, [data, key]);

  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [selectedFor, setSelectedFor] = useState(key);
  if (selectedFor !== key) {
    setSelectedFor(key);
    setSelected(new Set());
  }
  const [ackStatus, setAckStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const acting = canAct(session);

  const toggle = (fp: string, on: boolean): void => {
    const next = new Set(selected);
    if (on) next.add(fp);
    else next.delete(fp);
    setSelected(next);
  };
  const pageFps = (data?.items ?? []).filter((f) => !f.acknowledged).map((f) => f.fingerprint);
  const allOnPage = pageFps.length > 0 && pageFps.every((f) => selected.has(f));

  const acknowledge = async (): Promise<void> => {
    const fps = [...selected];
    setAckStatus(null);
    try {
      const r = await api<{ acknowledged: number }>('/findings/ack', {
        method: 'POST',
        body: { fingerprints: fps },
      });
      setAckStatus({
        ok: true,
        text: `Acknowledged ${r.acknowledged} ${r.acknowledged === 1 ? 'finding' : 'findings'}.`,
      });
      setSelected(new Set());
      reload();
    } catch (e) {
      setAckStatus({ ok: false, text: `Could not acknowledge: ${errorText(e)}` });
    }
  };

  const set = (changes: Record<string, string | undefined>): void =>
    navigate(withQuery(loc, { ...changes, cursor: undefined }));
  const onSort = (field: string, o: Order): void => set({ sort: field, order: o });

  return (
    <>
      <div className="page-head">
        <h1>Findings</h1>
      </div>
      <FindingsFilters
        id={id}
        values={{ text, rule, host, technique }}
        severities={severities}
        rangeId={range?.id ?? ''}
        stateId={state.id}
        set={set}
      />
      {acting ? (
        <div className="toolbar">
          <button
            type="button"
            className="primary"
            disabled={selected.size === 0}
            onClick={() => void acknowledge()}
            data-action="acknowledge"
          >
            Acknowledge selected{selected.size > 0 ? ` (${selected.size})` : ''}
          </button>
          <output className={ackStatus && !ackStatus.ok ? 'error-text' : 'ok-text'}>
            {ackStatus?.text ?? ''}
          </output>
        </div>
      ) : null}
      {error ? <ErrorNotice error={error} what="findings" /> : null}
      {loading && !data && !error ? <Loading what="findings" /> : null}
      {data ? (
        <>
          <table className="data findings" data-testid="findings-table">
            <caption className="visually-hidden">Findings</caption>
            <thead>
              <tr>
                {acting ? (
                  <th scope="col" className="select">
                    <input
                      type="checkbox"
                      aria-label="Select every open finding on this page"
                      checked={allOnPage}
                      disabled={pageFps.length === 0}
                      onChange={(e) => setSelected(e.target.checked ? new Set(pageFps) : new Set())}
                    />
                  </th>
                ) : null}
                <SortHeader field="severity" sort={sort} order={order} onSort={onSort}>
                  Severity
                </SortHeader>
                <th scope="col">Finding</th>
                <th scope="col">Host</th>
                <SortHeader field="count" sort={sort} order={order} onSort={onSort}>
                  Count
                </SortHeader>
                <SortHeader field="first_seen" sort={sort} order={order} onSort={onSort}>
                  First seen
                </SortHeader>
                <SortHeader field="last_seen" sort={sort} order={order} onSort={onSort}>
                  Last seen
                </SortHeader>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {data.items.length === 0 ? (
                <tr>
                  <td colSpan={acting ? 8 : 7} className="muted">
                    No finding matches these filters.
                  </td>
                </tr>
              ) : null}
              {data.items.map((f) => (
                <tr
                  key={f.fingerprint}
                  data-fingerprint={f.fingerprint}
                  className={fresh.has(f.fingerprint) ? 'fresh' : undefined}
                >
                  {acting ? (
                    <td className="select">
                      {f.acknowledged ? null : (
                        <input
                          type="checkbox"
                          aria-label={`Select ${f.rule.name} on ${f.host.name}`}
                          checked={selected.has(f.fingerprint)}
                          onChange={(e) => toggle(f.fingerprint, e.target.checked)}
                        />
                      )}
                    </td>
                  ) : null}
                  <td>
                    <SeverityBadge severity={f.severity} />
                  </td>
                  <td className="finding-cell">
                    <Link to={`/findings/${f.fingerprint}`}>{f.rule.name}</Link>
                    <div className="muted small clip">{f.message}</div>
                  </td>
                  <td className="host-cell">{f.host.name}</td>
                  <td className="num">{f.count}</td>
                  <td>
                    <Time iso={f.first_seen} />
                  </td>
                  <td>
                    <Time iso={f.last_seen} />
                  </td>
                  <td>{f.acknowledged ? 'acknowledged' : 'open'}</td>
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
            label="Findings"
          />
        </>
      ) : null}
    </>
  );
}

interface TextFilters {
  text: string;
  rule: string;
  host: string;
  technique: string;
}

/**
 * Text fields apply on Enter (or the button); choices (severity, time,
 * state) apply at once. Every filter is in the address.
 */
function FindingsFilters({
  id,
  values,
  severities,
  rangeId,
  stateId,
  set,
}: {
  id: string;
  values: TextFilters;
  severities: string[];
  rangeId: string;
  stateId: string;
  set: (changes: Record<string, string | undefined>) => void;
}) {
  const [draft, setDraft] = useState(values);
  const current = `${values.text}\n${values.rule}\n${values.host}\n${values.technique}`;
  const [draftFor, setDraftFor] = useState(current);
  if (draftFor !== current) {
    setDraftFor(current);
    setDraft(values);
  }
  const [rules, setRules] = useState<Rule[]>([]);
  useEffect(() => {
    let live = true;
    loadRules().then(
      (r) => {
        if (live) setRules(r);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    set({
      text: draft.text.trim(),
      rule: draft.rule.trim(),
      host: draft.host.trim(),
      technique: draft.technique.trim().toUpperCase(),
    });
  };
  const field = (k: keyof TextFilters, label: string, placeholder: string, list?: string) => (
    <div className="field">
      <label htmlFor={`${id}-${k}`}>{label}</label>
      <input
        id={`${id}-${k}`}
        name={k}
        type={k === 'text' ? 'search' : 'text'}
        value={draft[k]}
        placeholder={placeholder}
        list={list}
        spellCheck={false}
        onChange={(e) => setDraft({ ...draft, [k]: e.target.value })}
      />
    </div>
  );
  const toggleSeverity = (s: string, on: boolean): void => {
    const next = on ? [...severities, s] : severities.filter((x) => x !== s);
    set({ severity: FINDING_SEVERITIES.filter((x) => next.includes(x)).join(',') });
  };
  return (
    <search aria-label="Findings">
      <form className="filters" onSubmit={submit}>
        {field('text', 'Text', 'message, process, domain…')}
        {field('rule', 'Rule', 'rule id', `${id}-rules`)}
        <datalist id={`${id}-rules`}>
          {rules.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </datalist>
        {field('host', 'Host', 'host name')}
        {field('technique', 'Technique', 'T1496')}
        <div className="field field-button">
          <button type="submit">Apply</button>
        </div>
        <fieldset className="field severities">
          <legend>Severity</legend>
          {FINDING_SEVERITIES.map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                name="severity"
                value={s}
                checked={severities.includes(s)}
                onChange={(e) => toggleSeverity(s, e.target.checked)}
              />
              {s}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-range`}>Seen in</label>
          <select id={`${id}-range`} value={rangeId} onChange={(e) => set({ range: e.target.value })}>
            <option value="">any time</option>
            {TIME_RANGES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-state`}>State</label>
          <select
            id={`${id}-state`}
            value={stateId}
            onChange={(e) => set({ state: e.target.value === 'open' ? undefined : e.target.value })}
          >
            {STATES.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-button">
          <button
            type="button"
            className="link-button"
            onClick={() =>
              set({
                text: undefined,
                rule: undefined,
                host: undefined,
                technique: undefined,
                severity: undefined,
                range: undefined,
                state: undefined,
              })
            }
          >
            Clear filters
          </button>
        </div>
      </form>
    </search>
  );
}
