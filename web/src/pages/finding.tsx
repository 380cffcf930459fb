import { type ReactNode, useState } from 'react';
import { ApiError, api, errorText, query } from '../api.ts';
import { SeverityBadge } from '../components/badges.tsx';
import { Link } from '../components/link.tsx';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { Techniques } from '../components/technique.tsx';
import { Time } from '../components/time.tsx';
import { useLoad } from '../load.ts';
import { canAct, type Session } from '../session.ts';
import { useLive } from '../stream.ts';
import type { Endpoint, Finding, Host, Page, Rule } from '../types.ts';
import { useTitle } from '../use-session.ts';
import { lastFindingsList } from './findings.tsx';

/**
 * One finding. Everything in it may have been written by the attacker (a
 * process name, a command line, a domain, the evidence): it is shown as text
 * only — React escapes it, and nothing here sets HTML.
 */
export function FindingPage({ fingerprint, session }: { fingerprint: string; session: Session }) {
  const f = useLoad(`finding:${fingerprint}`, (signal) =>
    api<Finding>(`/findings/${encodeURIComponent(fingerprint)}`, { signal }),
  );
  useTitle(f.data ? f.data.rule.name : 'Finding');
  useLive(['finding'], f.reload, (e) => (e.data as Finding | null)?.fingerprint === fingerprint);
  const [ackStatus, setAckStatus] = useState<{ ok: boolean; text: string } | null>(null);

  const acknowledge = async (): Promise<void> => {
    try {
      await api('/findings/ack', { method: 'POST', body: { fingerprints: [fingerprint] } });
      setAckStatus({ ok: true, text: 'Acknowledged.' });
      f.reload();
    } catch (e) {
      setAckStatus({ ok: false, text: `Could not acknowledge: ${errorText(e)}` });
    }
  };

  const d = f.data;
  return (
    <>
      <p className="crumbs">
        <Link to={lastFindingsList}>Findings</Link> ›
      </p>
      {f.error && !d ? (
        f.error instanceof ApiError && f.error.status === 404 ? (
          <div className="notice">
            No finding has this fingerprint (it may have been deleted by retention).
          </div>
        ) : (
          <ErrorNotice error={f.error} what="the finding" />
        )
      ) : null}
      {f.loading && !d && !f.error ? <Loading what="the finding" /> : null}
      {d ? (
        <article className="finding-detail" data-testid="finding-detail">
          <div className="page-head">
            <h1>{d.rule.name}</h1>
            <SeverityBadge severity={d.severity} />
            <span className={d.acknowledged ? 'status status-stale' : 'status status-open'}>
              {d.acknowledged ? 'acknowledged' : 'open'}
            </span>
          </div>
          <p className="message">{d.message}</p>
          {canAct(session) ? (
            <div className="toolbar">
              {d.acknowledged ? null : (
                <button
                  type="button"
                  className="primary"
                  onClick={() => void acknowledge()}
                  data-action="acknowledge"
                >
                  Acknowledge
                </button>
              )}
              <output className={ackStatus && !ackStatus.ok ? 'error-text' : 'ok-text'}>
                {ackStatus?.text ?? ''}
              </output>
            </div>
          ) : null}
          <div className="two-col">
            <section className="panel" aria-labelledby="what">
              <h2 id="what">What and where</h2>
              <dl className="facts facts-grid">
                <Fact label="Host">
                  <HostLink name={d.host.name} />
                  {d.host.hostname ? <span className="muted"> ({d.host.hostname})</span> : null}
                </Fact>
                <Fact label="Rule">
                  <Link to={`/rules${query({ q: d.rule.id })}`} className="mono">
                    {d.rule.id}
                  </Link>{' '}
                  <span className="muted">({d.rule.ruleset})</span>
                </Fact>
                <Fact label="ATT&CK">
                  <Techniques ids={d.threat.technique} />
                </Fact>
                <Fact label="First seen">
                  <Time iso={d.first_seen} />
                </Fact>
                <Fact label="Last seen">
                  <Time iso={d.last_seen} />
                </Fact>
                <Fact label="Count">{d.count}</Fact>
                {d.acknowledged ? (
                  <Fact label="Acknowledged">
                    <Time iso={d.acknowledged_at} />
                    {d.acknowledged_by ? <span className="muted"> by {d.acknowledged_by}</span> : null}
                  </Fact>
                ) : null}
                <Fact label="Fingerprint">
                  <span className="mono break">{d.fingerprint}</span>
                </Fact>
              </dl>
            </section>
            <Triage ruleId={d.rule.id} />
          </div>
          <Subject finding={d} />
          <section className="panel" aria-labelledby="evidence">
            <h2 id="evidence">Evidence</h2>
            {Object.keys(d.evidence).length === 0 ? (
              <p className="muted">The rule recorded no evidence beyond the fields above.</p>
            ) : (
              <Json value={d.evidence} testId="evidence" />
            )}
            <details>
              <summary>The whole finding as JSON</summary>
              <Json value={d} />
            </details>
          </section>
        </article>
      ) : null}
    </>
  );
}

/** JSON as text (never markup: the attacker wrote much of it), in a box that scrolls when long. */
function Json({ value, testId }: { value: unknown; testId?: string }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: the box scrolls, so the keyboard must be able to reach it
    <pre className="json" data-testid={testId} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** The host's page when the server knows a host of that name (network findings may name a bare address). */
function HostLink({ name }: { name: string }) {
  const h = useLoad(`hostlink:${name}`, (signal) =>
    api<Page<Host>>(`/hosts${query({ text: name, limit: 20 })}`, { signal }),
  );
  const hit = h.data?.items.find((x) => x.name === name);
  return hit ? <Link to={`/hosts/${encodeURIComponent(hit.id)}`}>{name}</Link> : <span>{name}</span>;
}

function Triage({ ruleId }: { ruleId: string }) {
  const r = useLoad(`rule:${ruleId}`, (signal) =>
    api<Rule>(`/rules/${encodeURIComponent(ruleId)}`, { signal }),
  );
  return (
    <section className="panel" aria-labelledby="triage">
      <h2 id="triage">Triage</h2>
      {r.data ? <p className="triage">{r.data.triage}</p> : null}
      {r.error ? (
        <p className="muted">
          {r.error instanceof ApiError && r.error.status === 404
            ? 'This rule is not in the server’s catalog, so there is no triage note for it.'
            : `The triage note could not be loaded: ${errorText(r.error)}`}
        </p>
      ) : null}
      {r.loading && !r.error ? <Loading what="the triage note" /> : null}
    </section>
  );
}

function endpoint(e: Endpoint | undefined): string | undefined {
  if (!e) return undefined;
  const addr = e.domain ?? e.ip;
  if (!addr && e.port === undefined) return undefined;
  return `${addr ?? ''}${e.port === undefined ? '' : `:${e.port}`}`;
}

/** The process, the network endpoints and the event-log record, whichever the finding has. */
function Subject({ finding: d }: { finding: Finding }) {
  const p = d.process;
  const rows: [label: string, value: string | number, mono?: boolean][] = [];
  if (p) {
    if (p.pid !== undefined) rows.push(['PID', p.pid]);
    if (p.name) rows.push(['Process name', p.name]);
    if (p.executable) rows.push(['Executable', p.executable, true]);
    if (p.command_line) rows.push(['Command line', p.command_line, true]);
    const sha = (p.hash as { sha256?: string } | undefined)?.sha256;
    if (sha) rows.push(['SHA-256', sha, true]);
    const user = (p.user as { name?: string } | undefined)?.name;
    if (user) rows.push(['User', user]);
  }
  const src = endpoint(d.source);
  const dst = endpoint(d.destination);
  if (src) rows.push(['Source', src, true]);
  if (dst) rows.push(['Destination', dst, true]);
  if (d.dns) rows.push(['DNS name', d.dns.question.name, true]);
  if (d.tls) rows.push(['TLS server name', d.tls.server_name, true]);
  if (d.event?.code) rows.push(['Event ID', d.event.code]);
  if (d.winlog?.channel) rows.push(['Channel', d.winlog.channel]);
  if (d.winlog?.record_id !== undefined) rows.push(['Record', String(d.winlog.record_id)]);
  if (rows.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="subject">
      <h2 id="subject">Process, network and log record</h2>
      <dl className="facts facts-grid">
        {rows.map(([k, v, mono]) => (
          <Fact key={k} label={k}>
            {mono ? <span className="mono break">{v}</span> : v}
          </Fact>
        ))}
      </dl>
    </section>
  );
}
