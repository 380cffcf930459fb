import { useId, useState } from 'react';
import { api } from '../api.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { Time } from '../components/time.tsx';
import { type Loaded, useLoad } from '../load.ts';
import { useLive } from '../stream.ts';
import type { Host, HostIsolation, Isolation } from '../types.ts';

/** The host's isolation, read again on every `isolation` event about it. */
export function useHostIsolation(hostId: string): Loaded<HostIsolation> {
  const path = `/hosts/${encodeURIComponent(hostId)}/isolation`;
  const iso = useLoad(`isolation:${hostId}`, (signal) => api<HostIsolation>(path, { signal }));
  useLive(['isolation'], iso.reload, (e) => (e.data as { host_id?: string } | null)?.host_id === hostId, 300);
  return iso;
}

const ACTIVE = new Set(['requested', 'applying', 'isolated', 'failed', 'releasing']);

/** One line for the host's facts: where its isolation stands (shown to every role). */
export function IsolationFact({ iso }: { iso: Loaded<HostIsolation> }) {
  const i = iso.data?.isolation;
  if (iso.error && !iso.data) return <span className="muted">unknown</span>;
  if (!i || i.state === 'released')
    return (
      <span data-testid="isolation-state" data-state={i?.state ?? 'none'}>
        not isolated
        {i?.released_at ? (
          <span className="muted">
            {' '}
            (released <Time iso={i.released_at} relative />)
          </span>
        ) : null}
      </span>
    );
  const via = `${i.backend}${i.target ? `, ${i.target}` : ''}`;
  let text: string;
  switch (i.state) {
    case 'requested':
      text =
        i.approval === 'pending'
          ? `isolation requested, waiting for approval (${via})`
          : `isolation starting (${via})`;
      break;
    case 'applying':
      text = `isolating… (${via})`;
      break;
    case 'isolated':
      text = `isolated (${via})`;
      break;
    case 'releasing':
      text = `releasing… (${via})`;
      break;
    default:
      text = `${i.failed_action === 'release' ? 'release' : 'isolation'} failed (${via})`;
  }
  return (
    <span data-testid="isolation-state" data-state={i.state}>
      <span className={`iso iso-${i.state}`}>{text}</span>
      {i.state === 'isolated' && i.isolated_at ? (
        <span className="muted">
          {' '}
          since <Time iso={i.isolated_at} relative />
          {i.expires_at ? (
            <>
              , released <Time iso={i.expires_at} />
            </>
          ) : null}
        </span>
      ) : null}
      {i.state === 'failed' && i.last_error ? (
        <span className="muted small">
          {' '}
          {i.last_error.code}: {i.last_error.message} ({i.attempts} attempts)
        </span>
      ) : null}
    </span>
  );
}

const TTLS = [
  { s: 0, label: 'until released' },
  { s: 3600, label: '1 hour' },
  { s: 4 * 3600, label: '4 hours' },
  { s: 86_400, label: '24 hours' },
] as const;

/** Isolate, approve, release, each behind a confirmation; and the recent steps. For analysts and admins only. */
export function IsolationActions({ host, iso }: { host: Host; iso: Loaded<HostIsolation> }) {
  const [dialog, setDialog] = useState<'isolate' | 'release' | 'approve' | null>(null);
  const i = iso.data?.isolation ?? null;
  const active = i !== null && ACTIVE.has(i.state);
  const backends = iso.data?.backends ?? [];
  const path = `/hosts/${encodeURIComponent(host.id)}`;
  const pending = i?.state === 'requested' && i.approval === 'pending';
  const canIsolate = backends.length > 0 && (!active || i?.state === 'failed');
  const canRelease = active && i?.state !== 'releasing';
  return (
    <div className="stack">
      {backends.length === 0 && iso.data ? (
        <p className="muted">
          Isolation is not configured on this server (serve/up <code>--isolate-backend</code>, or{' '}
          <code>respond.isolation</code> in its config file).
        </p>
      ) : null}
      <div className="toolbar">
        {canIsolate ? (
          <button
            type="button"
            className="danger-outline"
            data-action="isolate"
            onClick={() => setDialog('isolate')}
          >
            {i?.state === 'failed' ? 'Retry isolation…' : 'Isolate host…'}
          </button>
        ) : null}
        {pending ? (
          <button
            type="button"
            className="primary"
            data-action="approve"
            onClick={() => setDialog('approve')}
          >
            Approve isolation…
          </button>
        ) : null}
        {canRelease ? (
          <button type="button" data-action="release" onClick={() => setDialog('release')}>
            {pending ? 'Withdraw request…' : 'Release…'}
          </button>
        ) : null}
      </div>
      {i?.actions && i.actions.length > 0 ? <RecentSteps isolation={i} /> : null}
      {dialog === 'isolate' ? (
        <IsolateDialog
          host={host}
          data={iso.data!}
          path={path}
          onDone={iso.reload}
          onClose={() => setDialog(null)}
        />
      ) : null}
      {dialog === 'release' && i ? (
        <ConfirmDialog
          title={pending ? `Withdraw the request to isolate ${host.name}?` : `Release ${host.name}?`}
          confirmLabel={pending ? 'Withdraw' : 'Release'}
          danger={false}
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api(`${path}/release`, { method: 'POST', body: {} });
            iso.reload();
          }}
        >
          <p>
            {pending
              ? 'Nothing was sent for it yet; the request is withdrawn.'
              : `The drop rules for ${i.target ?? host.name} are removed through ${i.backend} and read back gone. A miner still running there can reach its pool again.`}
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog === 'approve' && i ? (
        <ConfirmDialog
          title={`Approve isolating ${host.name}?`}
          confirmLabel="Approve and isolate"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api(`/isolations/${encodeURIComponent(i.id)}/approve`, { method: 'POST', body: {} });
            iso.reload();
          }}
        >
          <p>
            Requested by {i.requested_by}
            {i.reason ? ` (reason: ${i.reason})` : ''}. {i.target ?? host.name} is cut off through {i.backend}{' '}
            at once.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

function IsolateDialog({
  host,
  data,
  path,
  onDone,
  onClose,
}: {
  host: Host;
  data: HostIsolation;
  path: string;
  onDone: () => void;
  onClose: () => void;
}) {
  const id = useId();
  const [backend, setBackend] = useState(data.default_backend ?? data.backends[0] ?? '');
  const [ttl, setTtl] = useState(0);
  const [reason, setReason] = useState('');
  return (
    <ConfirmDialog
      title={`Isolate ${host.name}?`}
      confirmLabel="Isolate"
      onClose={onClose}
      onConfirm={async () => {
        await api(`${path}/isolate`, {
          method: 'POST',
          body: {
            ...(backend ? { backend } : {}),
            ...(ttl > 0 ? { ttl_s: ttl } : {}),
            ...(reason.trim() ? { reason: reason.trim() } : {}),
          },
        });
        onDone();
      }}
    >
      <p>
        The host is cut off from the network: its traffic is dropped at the switch or controller (or by its
        own firewall, through its agent, which keeps reaching this server). Addresses on the never-isolate
        list are refused.
      </p>
      <div className="inline-field">
        <label htmlFor={`${id}-backend`}>Through</label>
        <select id={`${id}-backend`} value={backend} onChange={(e) => setBackend(e.target.value)}>
          {data.backends.map((b) => (
            <option key={b} value={b} disabled={b === 'agent-nftables' && !host.agent}>
              {b}
              {b === 'agent-nftables' && !host.agent ? ' (needs an agent)' : ''}
            </option>
          ))}
        </select>
      </div>
      <div className="inline-field">
        <label htmlFor={`${id}-ttl`}>Release</label>
        <select id={`${id}-ttl`} value={ttl} onChange={(e) => setTtl(Number(e.target.value))}>
          {TTLS.map((t) => (
            <option key={t.s} value={t.s}>
              {t.s === 0 ? t.label : `after ${t.label}`}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-reason`}>Reason (optional)</label>
        <input
          id={`${id}-reason`}
          value={reason}
          maxLength={1000}
          onChange={(e) => setReason(e.target.value)}
        />
      </div>
    </ConfirmDialog>
  );
}

const STEP_TEXT: Record<string, string> = {
  request: 'requested',
  approve: 'approved',
  apply: 'sent to the device',
  exchange: 'request/answer',
  retry: 'retrying',
  verify: 'read back',
  error: 'failed',
  release: 'release',
  'release-requested': 'release asked of the agent',
  expire: 'expired',
  report: 'agent reported',
  withdraw: 'withdrawn',
  resume: 'resumed',
};

/** The newest steps of the action log (the whole log is in GET /hosts/{id}/isolation and the audit log). */
function RecentSteps({ isolation }: { isolation: Isolation }) {
  const steps = (isolation.actions ?? []).filter((a) => a.kind !== 'exchange').slice(-8);
  return (
    <details>
      <summary>
        Recent steps ({isolation.attempts} attempt{isolation.attempts === 1 ? '' : 's'})
      </summary>
      <table className="compact">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Step</th>
            <th scope="col">By</th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((a) => (
            <tr key={a.seq}>
              <td>
                <Time iso={a.at} relative />
              </td>
              <td>{STEP_TEXT[a.kind] ?? a.kind}</td>
              <td className="break">{a.actor}</td>
              <td>{a.outcome}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
