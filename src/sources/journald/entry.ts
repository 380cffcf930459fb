import type { WinlogEvent } from '../../core/winlog-event.ts';

/** The channel journal entries carry, which `data/sigma/logsource-map.yaml` maps `product: linux` services to. */
export const JOURNALD_CHANNEL = 'journald';

/** Field values kept per entry are cut here (the journal stores up to 64 KiB per field by default). */
const MAX_VALUE = 64 * 1024;

/**
 * A field of `journalctl -o json`: a string; an array of byte values for
 * text that is not UTF-8 or holds control characters; an array of those when
 * the field repeats; null when journalctl left out a value larger than its
 * limit (without `--all`).
 */
export function fieldText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > MAX_VALUE ? v.slice(0, MAX_VALUE) : v;
  if (typeof v === 'number') return String(v);
  if (!Array.isArray(v)) return undefined;
  if (v.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b < 256)) {
    const bytes = Uint8Array.from((v as number[]).slice(0, MAX_VALUE));
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  }
  // A repeated field: its values joined, as keyword searches look through them all.
  const parts = v.map(fieldText).filter((x): x is string => x !== undefined);
  return parts.length > 0 ? parts.join('\n').slice(0, MAX_VALUE) : undefined;
}

/** Microseconds since the epoch (journald's timestamps) as UTC ISO-8601 with milliseconds. */
export function isoOfMicros(v: string | undefined): string | undefined {
  if (v === undefined || !/^\d{1,19}$/.test(v)) return undefined;
  const ms = Number(BigInt(v) / 1000n);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Fields not worth matching or showing: opaque positions in the journal files. */
const SKIPPED = new Set(['__CURSOR', '__MONOTONIC_TIMESTAMP', '__SEQNUM_ID']);

/**
 * One journal entry as a record Sigma reads: its fields under their journal
 * names (MESSAGE, SYSLOG_IDENTIFIER, _COMM, _EXE, _CMDLINE, _PID, _UID,
 * _SYSTEMD_UNIT…), plus `Image`, `CommandLine`, `ProcessId` and `User` of the
 * process that logged it, so findings name it as for other event logs.
 */
export function journalEventOf(fields: Map<string, string>): WinlogEvent {
  // Field names come from the input: no prototype, so `__proto__` is a plain name.
  const data: Record<string, unknown> = Object.create(null);
  for (const [k, v] of fields) if (!SKIPPED.has(k)) data[k] = v;
  const exe = fields.get('_EXE');
  if (exe) data['Image'] = exe;
  const cmd = fields.get('_CMDLINE');
  if (cmd) data['CommandLine'] = cmd;
  const pid = fields.get('_PID') ?? fields.get('SYSLOG_PID');
  if (pid) data['ProcessId'] = pid;
  const uid = fields.get('_UID');
  if (uid !== undefined) data['User'] = uid === '0' ? 'root' : uid;
  const ident = fields.get('SYSLOG_IDENTIFIER') ?? fields.get('_COMM');
  const seq = Number(fields.get('__SEQNUM'));
  const out: WinlogEvent = {
    event: { provider: 'journald', dataset: 'journald' },
    winlog: { channel: JOURNALD_CHANNEL, event_data: data },
  };
  if (ident) out.winlog.provider_name = ident;
  if (Number.isSafeInteger(seq) && fields.has('__SEQNUM')) out.winlog.record_id = seq;
  const ts = isoOfMicros(fields.get('_SOURCE_REALTIME_TIMESTAMP') ?? fields.get('__REALTIME_TIMESTAMP'));
  if (ts) out['@timestamp'] = ts;
  const host = fields.get('_HOSTNAME');
  if (host) {
    out.winlog.computer_name = host;
    out.host = { name: host };
  }
  return out;
}

/**
 * A kernel audit record the journal holds (`_TRANSPORT=audit`) as the
 * audit.log line auditd would have written, so it is joined and mapped like
 * one: `type=NAME msg=audit(SECONDS.MILLIS:SERIAL): …`.
 */
export function auditLineOf(fields: Map<string, string>): string | undefined {
  if (fields.get('_TRANSPORT') !== 'audit') return undefined;
  const type = fields.get('_AUDIT_TYPE_NAME');
  const serial = fields.get('_AUDIT_ID');
  const msg = fields.get('MESSAGE');
  const micros = fields.get('_SOURCE_REALTIME_TIMESTAMP') ?? fields.get('__REALTIME_TIMESTAMP');
  if (!type || !serial || msg === undefined || !micros || !/^\d+$/.test(micros) || !/^\d+$/.test(serial))
    return undefined;
  const us = BigInt(micros);
  const seconds = us / 1_000_000n;
  const millis = String((us / 1000n) % 1000n).padStart(3, '0');
  // journald writes the record as "TYPE_NAME text"; the text is what follows the audit(…) header.
  const body = msg.startsWith(`${type} `) ? msg.slice(type.length + 1) : msg;
  const node = fields.get('_HOSTNAME');
  return `${node ? `node=${node} ` : ''}type=${type} msg=audit(${seconds}.${millis}:${serial}): ${body}`;
}
