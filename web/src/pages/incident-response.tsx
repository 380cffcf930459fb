import { useId, useState } from 'react';
import { ApiError, api, errorText } from '../api.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { Time } from '../components/time.tsx';
import { useLoad } from '../load.ts';
import { canAct, getSession, type Session } from '../session.ts';
import { useLive } from '../stream.ts';

/**
 * An incident's forensics and clean-up through its host's agent
 * (docs/forensics.md): ask for evidence or an eradication (each with a
 * confirmation), the tasks with what the agent reported, and the evidence
 * with its hash, custody and a download (the server checks the hash again).
 */

interface Custody {
  seq: number;
  at: string;
  actor: string;
  action: string;
}

interface Evidence {
  id: string;
  kind: string;
  name: string;
  bytes: number;
  sha256: string;
  collected_at: string;
  custody?: Custody[];
}

interface Step {
  step: string;
  target?: string;
  ok: boolean;
  verified: boolean;
  detail?: string;
}

interface Task {
  id: string;
  kind: 'collect' | 'eradicate';
  state: string;
  requested_by: string;
  requested_at: string;
  finished_at: string | null;
  result: { ok?: boolean; steps?: Step[]; error?: string } | null;
}

const LIVE = ['incident'] as const;

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** Evidence is behind the bearer token: fetched with it, then saved from a blob. */
async function download(e: Evidence): Promise<void> {
  const token = getSession()?.token;
  const res = await fetch(`/api/v1/evidence/${encodeURIComponent(e.id)}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    cache: 'no-store',
  });
  if (!res.ok) {
    let message = `the server answered ${res.status}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) message = body.error.message;
    } catch {
      // Not JSON: the status says it.
    }
    throw new ApiError(res.status, `HTTP_${res.status}`, message);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${e.id}-${e.kind}.bin`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ResponsePanel({
  id,
  host,
  closed,
  session,
}: {
  id: string;
  host: string | null;
  closed: boolean;
  session: Session;
}) {
  const base = `/incidents/${encodeURIComponent(id)}`;
  const tasks = useLoad(`${base}/tasks`, (signal) =>
    api<{ items: Task[]; watch: { until: string; task: string } | null }>(`${base}/tasks`, { signal }),
  );
  const evidence = useLoad(`${base}/evidence`, (signal) =>
    api<{ items: Evidence[] }>(`${base}/evidence`, { signal }),
  );
  useLive(
    LIVE,
    () => {
      tasks.reload();
      evidence.reload();
    },
    (e) => (e.data as { id?: string } | null)?.id === id,
  );
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const headId = useId();
  const act = async (what: string, run: () => Promise<unknown>): Promise<void> => {
    try {
      await run();
      setStatus({ ok: true, text: `${what}: queued for the agent.` });
      tasks.reload();
    } catch (err) {
      setStatus({ ok: false, text: `${what}: ${errorText(err)}` });
    }
  };
  return (
    <section className="panel" aria-labelledby={`${headId}-resp`} data-testid="incident-response">
      <h2 id={`${headId}-resp`}>Evidence and clean-up</h2>
      {canAct(session) && host && !closed ? (
        <div className="toolbar">
          <ConfirmButton
            label="Collect evidence"
            confirmLabel={`Collect from ${host}`}
            onConfirm={() =>
              act('Collect evidence', () => api(`${base}/evidence`, { method: 'POST', body: {} }))
            }
          />
          <ConfirmButton
            label="Eradicate"
            confirmLabel={`Kill, quarantine and remove persistence on ${host}`}
            onConfirm={() => act('Eradicate', () => api(`${base}/eradicate`, { method: 'POST', body: {} }))}
          />
          <output className={status && !status.ok ? 'error-text' : 'ok-text'}>{status?.text ?? ''}</output>
        </div>
      ) : null}
      {tasks.data?.watch ? (
        <p className="notice">
          Watching {host} until <Time iso={tasks.data.watch.until} />: a miner or persistence entry seen
          before then sends the incident back to eradication.
        </p>
      ) : null}
      <h3>Tasks</h3>
      {tasks.error ? <p className="error-text">{errorText(tasks.error)}</p> : null}
      {tasks.data && tasks.data.items.length === 0 ? <p className="muted">None yet.</p> : null}
      {tasks.data && tasks.data.items.length > 0 ? (
        <table className="data">
          <thead>
            <tr>
              <th scope="col">task</th>
              <th scope="col">state</th>
              <th scope="col">asked</th>
              <th scope="col">steps (verified / all)</th>
            </tr>
          </thead>
          <tbody>
            {tasks.data.items.map((t) => {
              const steps = t.result?.steps ?? [];
              return (
                <tr key={t.id}>
                  <td>{t.kind === 'collect' ? 'evidence' : 'eradication'}</td>
                  <td className={t.state === 'failed' ? 'error-text' : ''}>{t.state}</td>
                  <td>
                    <Time iso={t.requested_at} /> <span className="muted small">{t.requested_by}</span>
                  </td>
                  <td className="break">
                    {t.result
                      ? `${steps.filter((s) => s.ok && s.verified).length} / ${steps.length}${t.result.error ? ` — ${t.result.error}` : ''}`
                      : '—'}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      <h3>Evidence</h3>
      {evidence.error ? <p className="error-text">{errorText(evidence.error)}</p> : null}
      {evidence.data && evidence.data.items.length === 0 ? <p className="muted">None collected.</p> : null}
      {evidence.data && evidence.data.items.length > 0 ? (
        <table className="data" data-testid="evidence-table">
          <thead>
            <tr>
              <th scope="col">kind</th>
              <th scope="col">what</th>
              <th scope="col">size</th>
              <th scope="col">SHA-256</th>
              <th scope="col">custody</th>
              {canAct(session) ? <th scope="col">download</th> : null}
            </tr>
          </thead>
          <tbody>
            {evidence.data.items.map((e) => (
              <tr key={e.id}>
                <td>{e.kind}</td>
                <td className="break">{e.name}</td>
                <td>{size(e.bytes)}</td>
                <td className="mono break small">{e.sha256}</td>
                <td className="small">
                  {(e.custody ?? []).map((c) => (
                    <div key={c.seq}>
                      {c.action} <span className="muted">{c.actor}</span>
                    </div>
                  ))}
                </td>
                {canAct(session) ? (
                  <td>
                    <button
                      type="button"
                      onClick={() =>
                        void download(e)
                          .then(() => evidence.reload())
                          .catch((err) => setStatus({ ok: false, text: `Download: ${errorText(err)}` }))
                      }
                    >
                      Download
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
