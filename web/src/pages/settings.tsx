import { type FormEvent, useId, useState } from 'react';
import { ApiError, api, errorText } from '../api.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { CopyField } from '../components/copy-field.tsx';
import { ErrorNotice, Loading, Placeholder } from '../components/notice.tsx';
import { Time } from '../components/time.tsx';
import { count } from '../format.ts';
import { useLoad } from '../load.ts';
import type { Session } from '../session.ts';
import { useLive } from '../stream.ts';
import type {
  AgentConfig,
  Enrolment,
  EnrolmentCreated,
  FeedHealth,
  IntelFeed,
  IntelFeeds,
  IntelRefresh,
  Role,
  Token,
} from '../types.ts';
import { useTitle } from '../use-session.ts';

export function SettingsPage({ session }: { session: Session }) {
  useTitle('Settings');
  if (session.role !== 'admin') {
    return (
      <>
        <h1>Settings</h1>
        <p className="notice">Settings are for admins. Your token's role is {session.role}.</p>
      </>
    );
  }
  return (
    <>
      <h1>Settings</h1>
      <nav className="toc" aria-label="Settings sections">
        <a href="#tokens">Tokens</a> · <a href="#enrolment">Agent enrolment</a> ·{' '}
        <a href="#agent-config">Agent configuration</a> · <a href="#intel-feeds">Threat-intel feeds</a>
      </nav>
      <Tokens own={session.id} />
      <Enrolments />
      <AgentConfigForm />
      <IntelFeedsPanel />
    </>
  );
}

const CREATE_ROLES: { role: Role; what: string }[] = [
  { role: 'viewer', what: 'reads everything' },
  { role: 'analyst', what: 'reads and acknowledges' },
  { role: 'admin', what: 'everything, settings included' },
  { role: 'sensor', what: 'a network sensor or log hunt sending findings' },
];

function Tokens({ own }: { own: string | undefined }) {
  const id = useId();
  const list = useLoad('tokens', (signal) => api<{ items: Token[] }>('/tokens', { signal }));
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [created, setCreated] = useState<{ name: string; role: string; token: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const create = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setProblem(null);
    try {
      const r = await api<{ id: string; token: string; role: string; name: string }>('/tokens', {
        method: 'POST',
        body: { role, name: name.trim() },
      });
      setCreated({ name: r.name, role: r.role, token: r.token });
      setName('');
      list.reload();
    } catch (err) {
      setProblem(errorText(err));
    }
  };
  const revoke = async (t: Token): Promise<void> => {
    setProblem(null);
    try {
      await api(`/tokens/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
      list.reload();
    } catch (err) {
      setProblem(`Could not revoke ${t.name}: ${errorText(err)}`);
    }
  };

  return (
    <section className="panel" aria-labelledby="tokens">
      <h2 id="tokens">Tokens</h2>
      <form className="filters" onSubmit={(e) => void create(e)} aria-label="New token">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            required
            maxLength={200}
            value={name}
            placeholder="who or what uses it"
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {CREATE_ROLES.map((r) => (
              <option key={r.role} value={r.role}>
                {r.role} — {r.what}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-button">
          <button type="submit" className="primary">
            Create token
          </button>
        </div>
      </form>
      {problem ? (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      ) : null}
      {created ? (
        <div className="once" data-testid="new-token">
          <p>
            <strong>
              New {created.role} token “{created.name}”.
            </strong>{' '}
            It is shown this once: copy it now.
          </p>
          <CopyField label="Token" value={created.token} />
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      ) : null}
      {list.error ? <ErrorNotice error={list.error} what="tokens" /> : null}
      {list.loading && !list.data && !list.error ? <Loading what="tokens" /> : null}
      {list.data ? (
        <table className="data compact">
          <caption className="visually-hidden">Tokens</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((t) => (
              <tr key={t.id}>
                <th scope="row">{t.name}</th>
                <td>{t.role}</td>
                <td>
                  <Time iso={t.created_at} />
                </td>
                <td>
                  <Time iso={t.last_used_at} relative />
                </td>
                <td>
                  {t.revoked_at ? (
                    <>
                      revoked <Time iso={t.revoked_at} />
                    </>
                  ) : (
                    'active'
                  )}
                </td>
                <td>
                  {t.revoked_at ? null : t.id === own ? (
                    <span className="muted">this session</span>
                  ) : (
                    <ConfirmButton
                      label="Revoke"
                      confirmLabel={`Revoke ${t.name}`}
                      onConfirm={() => revoke(t)}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

const EXPIRIES = [
  { s: 3600, label: '1 hour' },
  { s: 86_400, label: '1 day' },
  { s: 7 * 86_400, label: '7 days' },
  { s: 30 * 86_400, label: '30 days' },
];

function installCommand(c: EnrolmentCreated): string {
  return (
    c.install_command ??
    `sudo npx deminer agent install --server ${window.location.origin} --enroll ${c.secret}`
  );
}

function Enrolments() {
  const id = useId();
  const list = useLoad('enrolments', (signal) => api<{ items: Enrolment[] }>('/enrolments', { signal }));
  const [uses, setUses] = useState('1');
  const [expires, setExpires] = useState(String(86_400));
  const [created, setCreated] = useState<EnrolmentCreated | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const create = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setProblem(null);
    try {
      const r = await api<EnrolmentCreated>('/enrolments', {
        method: 'POST',
        body: { uses: Number(uses), expires_in_s: Number(expires) },
      });
      setCreated(r);
      list.reload();
    } catch (err) {
      setProblem(errorText(err));
    }
  };
  const remove = async (x: Enrolment): Promise<void> => {
    setProblem(null);
    try {
      await api(`/enrolments/${encodeURIComponent(x.id)}`, { method: 'DELETE' });
      list.reload();
    } catch (err) {
      setProblem(`Could not delete the secret: ${errorText(err)}`);
    }
  };
  const listMissing = list.error instanceof ApiError && list.error.status === 404;

  return (
    <section className="panel" aria-labelledby="enrolment">
      <h2 id="enrolment">Agent enrolment</h2>
      <p>
        An enrolment secret lets agents join: each trades it for a token of its own. Run the install command
        on the Linux host as root.
      </p>
      <form className="filters" onSubmit={(e) => void create(e)} aria-label="New enrolment secret">
        <div className="field">
          <label htmlFor={`${id}-uses`}>Hosts that may use it</label>
          <input
            id={`${id}-uses`}
            type="number"
            min={1}
            max={10000}
            required
            value={uses}
            onChange={(e) => setUses(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-exp`}>Valid for</label>
          <select id={`${id}-exp`} value={expires} onChange={(e) => setExpires(e.target.value)}>
            {EXPIRIES.map((x) => (
              <option key={x.s} value={String(x.s)}>
                {x.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-button">
          <button type="submit" className="primary">
            Create secret
          </button>
        </div>
      </form>
      {problem ? (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      ) : null}
      {created ? (
        <div className="once" data-testid="new-enrolment">
          <p>
            <strong>New enrolment secret</strong>, valid until <Time iso={created.expires_at} /> for{' '}
            {created.uses_left} {created.uses_left === 1 ? 'host' : 'hosts'}. It is shown this once.
          </p>
          <CopyField
            label="Install command (run on the host as root)"
            value={installCommand(created)}
            multiline
          />
          <CopyField label="Secret" value={created.secret} />
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      ) : null}
      {listMissing ? (
        <Placeholder title="The list of secrets needs a newer server">
          This server cannot list enrolment secrets yet; new ones can still be created above.
        </Placeholder>
      ) : list.error ? (
        <ErrorNotice error={list.error} what="enrolment secrets" />
      ) : null}
      {list.data ? (
        list.data.items.length === 0 ? (
          <p className="muted">No enrolment secret is open.</p>
        ) : (
          <table className="data compact">
            <caption className="visually-hidden">Open enrolment secrets</caption>
            <thead>
              <tr>
                <th scope="col">Secret</th>
                <th scope="col">Expires</th>
                <th scope="col" className="num">
                  Uses left
                </th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((x) => (
                <tr key={x.id}>
                  <th scope="row" className="mono">
                    {x.id}
                  </th>
                  <td>
                    <Time iso={x.expires_at} />
                  </td>
                  <td className="num">{x.uses_left}</td>
                  <td>{x.expired ? 'expired' : x.uses_left === 0 ? 'used up' : 'open'}</td>
                  <td>
                    <Time iso={x.created_at} />
                    {x.created_by ? <span className="muted"> by {x.created_by}</span> : null}
                  </td>
                  <td>
                    <ConfirmButton
                      label="Delete"
                      confirmLabel="Delete this secret"
                      onConfirm={() => remove(x)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
    </section>
  );
}

interface ConfigDraft {
  interval: string;
  neverAlert: string;
  allowlist: string;
}

function draftOf(c: AgentConfig): ConfigDraft {
  return {
    interval: String(c.config.interval_s),
    neverAlert: (c.config.never_alert ?? []).join('\n'),
    allowlist: c.config.allowlist ?? '',
  };
}

function AgentConfigForm() {
  const id = useId();
  const cfg = useLoad('agent-config', (signal) => api<AgentConfig>('/agent-config', { signal }));
  const [draft, setDraft] = useState<ConfigDraft | null>(null);
  const [status, setStatus] = useState<{ ok: boolean; text: string; field?: string } | null>(null);
  const [changedElsewhere, setChangedElsewhere] = useState(false);
  useLive(['config'], () => {
    // Someone else saved: reload, unless this form holds unsaved edits (then say so instead).
    if (draft === null) cfg.reload();
    else setChangedElsewhere(true);
  });

  const shown = draft ?? (cfg.data ? draftOf(cfg.data) : null);
  const edit = (patch: Partial<ConfigDraft>): void => {
    if (shown) setDraft({ ...shown, ...patch });
  };
  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!shown) return;
    setStatus(null);
    const neverAlert = shown.neverAlert
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const body: Record<string, unknown> = { interval_s: Number(shown.interval) };
    if (neverAlert.length > 0) body.never_alert = neverAlert;
    if (shown.allowlist.trim() !== '') body.allowlist = shown.allowlist;
    try {
      await api<AgentConfig>('/agent-config', { method: 'PUT', body });
      setDraft(null);
      setChangedElsewhere(false);
      setStatus({ ok: true, text: 'Saved: every agent picks it up at its next heartbeat.' });
      cfg.reload();
    } catch (err) {
      const field = err instanceof ApiError ? err.field : undefined;
      setStatus({ ok: false, text: errorText(err), ...(field === undefined ? {} : { field }) });
    }
  };
  const fieldError = (f: string): string | undefined =>
    status && !status.ok && status.field?.split(/[.[]/)[0] === f ? `${id}-status` : undefined;

  return (
    <section className="panel" aria-labelledby="agent-config">
      <h2 id="agent-config">Agent configuration</h2>
      <p>
        One configuration for the whole fleet, handed to every agent with its heartbeat.
        {cfg.data ? (
          cfg.data.updated_at ? (
            <>
              {' '}
              Last set <Time iso={cfg.data.updated_at} />
              {cfg.data.updated_by ? ` by ${cfg.data.updated_by}` : ''}.
            </>
          ) : (
            ' Never set: the server’s default applies.'
          )
        ) : null}
      </p>
      {cfg.error ? <ErrorNotice error={cfg.error} what="the agent configuration" /> : null}
      {cfg.loading && !cfg.data && !cfg.error ? <Loading what="the agent configuration" /> : null}
      {changedElsewhere ? (
        <output className="notice block">
          Someone else saved the configuration while you were editing.{' '}
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setDraft(null);
              setChangedElsewhere(false);
              cfg.reload();
            }}
          >
            Discard my edits and load theirs
          </button>
        </output>
      ) : null}
      {shown ? (
        <form onSubmit={(e) => void save(e)} className="stack" aria-label="Agent configuration">
          <div className="field">
            <label htmlFor={`${id}-interval`}>Scan interval (seconds, 5–3600)</label>
            <input
              id={`${id}-interval`}
              type="number"
              min={5}
              max={3600}
              required
              value={shown.interval}
              aria-describedby={fieldError('interval_s')}
              onChange={(e) => edit({ interval: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-never`}>
              Never alert (one rule id, fingerprint or executable path per line)
            </label>
            <textarea
              id={`${id}-never`}
              rows={4}
              spellCheck={false}
              value={shown.neverAlert}
              aria-describedby={fieldError('never_alert')}
              onChange={(e) => edit({ neverAlert: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-allow`}>Application allow-list (XML)</label>
            <textarea
              id={`${id}-allow`}
              rows={8}
              spellCheck={false}
              className="mono"
              placeholder={
                '<ApplicationControl>\n  <AllowedProcesses>\n    <Process name="nginx" path="/usr/sbin/nginx" />\n  </AllowedProcesses>\n</ApplicationControl>'
              }
              value={shown.allowlist}
              aria-describedby={fieldError('allowlist')}
              onChange={(e) => edit({ allowlist: e.target.value })}
            />
          </div>
          <div className="toolbar">
            <button type="submit" className="primary" disabled={draft === null}>
              Save configuration
            </button>
            {draft !== null ? (
              <button type="button" onClick={() => setDraft(null)}>
                Discard edits
              </button>
            ) : null}
          </div>
          <output
            id={`${id}-status`}
            className={status && !status.ok ? 'notice notice-error block' : 'ok-text block'}
          >
            {status?.text ?? ''}
          </output>
        </form>
      ) : null}
    </section>
  );
}

const HEALTH: Record<FeedHealth, { label: string; className: string }> = {
  ok: { label: 'ok', className: 'status status-reporting' },
  stale: { label: 'stale', className: 'status status-stale' },
  failing: { label: 'failing', className: 'status status-offline' },
  'never-fetched': { label: 'never fetched', className: 'status status-open' },
};

function feedSource(f: IntelFeed): string {
  return f.url ?? f.file ?? '';
}

function interval(s: number): string {
  if (s % 86_400 === 0) return `${s / 86_400} d`;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/** The feeds `deminer intel update` keeps on this server: their health, and an update on demand. */
function IntelFeedsPanel() {
  const id = useId();
  const list = useLoad('intel-feeds', (signal) => api<IntelFeeds>('/intel/feeds', { signal }));
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<IntelRefresh | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const refresh = async (): Promise<void> => {
    setBusy(true);
    setProblem(null);
    setResult(null);
    try {
      setResult(await api<IntelRefresh>('/intel/feeds/refresh', { method: 'POST', body: { force } }));
    } catch (err) {
      setProblem(`The update did not complete: ${errorText(err)}`);
    } finally {
      setBusy(false);
      list.reload();
    }
  };
  const failed = result?.outcomes.filter((o) => o.status === 'failed' || o.status === 'empty') ?? [];
  const fetched = result?.outcomes.filter((o) => o.status !== 'fresh') ?? [];

  return (
    <section className="panel" aria-labelledby="intel-feeds">
      <h2 id="intel-feeds">Threat-intel feeds</h2>
      <p>
        The mining-pool and threat-intel lists this server checks network indicators against, as{' '}
        <code>deminer intel update</code> keeps them. An update fetches each enabled feed whose interval has
        passed; a failed download keeps the last good copy.
      </p>
      {list.error ? <ErrorNotice error={list.error} what="the intel feeds" /> : null}
      {list.loading && !list.data && !list.error ? <Loading what="the intel feeds" /> : null}
      {list.data && !list.data.configured ? (
        <div className="notice block" data-testid="intel-not-configured">
          <p>
            No threat-intel feed is configured on this server. Add feeds to the <code>intel:</code> section of
            its config file (<code>~/.deminer/config.yaml</code>, <code>$DEMINER_HOME/config.yaml</code> or
            the file given with <code>-c</code>), for example:
          </p>
          <pre className="json">
            {
              'intel:\n  feeds:\n    - name: coinblocker-domains\n      url: https://zerodot1.gitlab.io/CoinBlockerLists/list.txt\n      format: plain\n      interval: 6h'
            }
          </pre>
          <p>
            then restart <code>deminer serve</code> (or <code>up</code>). Every setting is in docs/intel.md,
            section “Configuration”.
            {list.data.items.length > 0
              ? ' Below: the feeds an earlier deminer intel update left in the state folder.'
              : ''}
          </p>
        </div>
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        <table className="data compact">
          <caption className="visually-hidden">Threat-intel feeds and their health</caption>
          <thead>
            <tr>
              <th scope="col">Feed</th>
              <th scope="col">Health</th>
              <th scope="col">Last success</th>
              <th scope="col" className="num">
                Indicators
              </th>
              <th scope="col">Next update due</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((f) => (
              <tr key={f.name}>
                <th scope="row">
                  {f.name}
                  <div className="muted small break">
                    {f.format}, {f.role}, every {interval(f.interval_s)}
                    {f.enabled ? '' : ', disabled'}
                  </div>
                  <div className="muted small mono break">{feedSource(f)}</div>
                </th>
                <td>
                  <span className={HEALTH[f.health].className}>{HEALTH[f.health].label}</span>
                </td>
                <td>
                  <Time iso={f.last_success} />
                </td>
                <td className="num">{count(f.indicators)}</td>
                <td>
                  {f.enabled ? <Time iso={f.next_update_due} /> : <span className="muted">disabled</span>}
                </td>
                <td className="break">{f.message ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {list.data?.configured ? (
        <div className="toolbar">
          <label htmlFor={`${id}-force`}>
            <input
              id={`${id}-force`}
              type="checkbox"
              checked={force}
              disabled={busy}
              onChange={(e) => setForce(e.target.checked)}
            />{' '}
            Fetch every feed, even within its interval
          </label>
          <button
            type="button"
            className="primary"
            disabled={busy || list.data.refreshing}
            onClick={() => void refresh()}
          >
            {busy ? 'Refreshing…' : 'Refresh now'}
          </button>
        </div>
      ) : null}
      <output className="block" aria-live="polite">
        {busy
          ? 'Updating the feeds…'
          : list.data?.refreshing && !result
            ? 'An update is running on the server.'
            : result
              ? `Updated: ${fetched.length} of ${result.outcomes.length} feeds fetched${
                  failed.length > 0
                    ? `, ${failed.length} failed (${failed.map((o) => o.name).join(', ')})`
                    : ''
                }.`
              : ''}
      </output>
      {problem ? (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      ) : null}
    </section>
  );
}
