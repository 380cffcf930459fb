import { FINDING_SEVERITIES, type HostStatus, type Severity, type SeverityCounts } from '../types.ts';

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span className={`sev sev-${severity}`}>{severity}</span>;
}

const STATUS_TEXT: Record<HostStatus, string> = {
  reporting: 'reporting',
  stale: 'stale',
  offline: 'offline',
};

export function StatusBadge({ status }: { status: HostStatus }) {
  return <span className={`status status-${status}`}>{STATUS_TEXT[status] ?? status}</span>;
}

/** Open findings by severity as a row of small counts; zeros are dimmed, nothing at all is a dash. */
export function SeverityCountsCell({ counts }: { counts: Partial<SeverityCounts> | undefined }) {
  if (!counts) return <span className="muted">—</span>;
  const shown = FINDING_SEVERITIES.filter((s) => (counts[s] ?? 0) > 0);
  if (shown.length === 0) return <span className="muted">none</span>;
  return (
    <span className="sev-counts">
      {shown.map((s) => (
        <span key={s} className={`sev sev-${s}`} title={`${counts[s]} ${s}`}>
          {counts[s]} {s}
        </span>
      ))}
    </span>
  );
}
