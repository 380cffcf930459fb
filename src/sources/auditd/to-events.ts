import type { WinlogEvent } from '../../core/winlog-event.ts';
import type { AuditEvent } from './join.ts';
import type { AuditRecord } from './record.ts';

/** The channel audit events carry, which `data/sigma/logsource-map.yaml` maps `service: auditd` to. */
export const AUDITD_CHANNEL = 'auditd';

/** Arguments kept per command (EXECVE); the command line is cut at MAX_COMMAND_LINE characters. */
const MAX_ARGS = 4096;
const MAX_COMMAND_LINE = 32 * 1024;

/**
 * What the SYSCALL record says about the process, copied to the event's other
 * records so that a rule on one record type (`type: PATH` with `exe`) reads
 * it. Not the key: a rule on `key` alone would fire once per record.
 */
const CONTEXT = [
  'arch',
  'syscall',
  'success',
  'exit',
  'ppid',
  'pid',
  'auid',
  'uid',
  'gid',
  'euid',
  'suid',
  'fsuid',
  'egid',
  'ses',
  'tty',
  'comm',
  'exe',
  'subj',
] as const;

const EXECVE_ARG = /^a(\d+)(?:\[(\d+)\])?$/;

/**
 * The command of an event's EXECVE records: `argc`, then `aN="…"`, or for a
 * long argument `aN_len=…` and its pieces `aN[0]`, `aN[1]`…; many arguments
 * spread over several EXECVE records.
 */
function argvOf(execs: readonly AuditRecord[]): string[] {
  const pieces = new Map<number, string[]>();
  let argc = 0;
  for (const r of execs) {
    const n = Number(r.fields.get('argc'));
    if (Number.isSafeInteger(n) && n > argc) argc = n;
    for (const [k, v] of r.fields) {
      const m = EXECVE_ARG.exec(k);
      if (!m) continue;
      const i = Number(m[1]);
      if (i >= MAX_ARGS) continue;
      let p = pieces.get(i);
      if (!p) {
        p = [];
        pieces.set(i, p);
      }
      p[m[2] === undefined ? 0 : Number(m[2])] = v;
    }
  }
  const count = Math.min(MAX_ARGS, Math.max(argc, pieces.size === 0 ? 0 : Math.max(...pieces.keys()) + 1));
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push((pieces.get(i) ?? []).join(''));
  return out;
}

/** Sysmon for Linux names the user; raw audit logs give the uid (the ENRICHED format also its name). */
function userOf(sys: AuditRecord | undefined): string | undefined {
  const named = sys?.enriched.get('UID');
  if (named) return named;
  const uid = sys?.fields.get('uid');
  return uid === '0' ? 'root' : uid;
}

function baseEvent(ev: AuditEvent, rec: AuditRecord, path: string): WinlogEvent {
  const out: WinlogEvent = {
    '@timestamp': new Date(ev.seconds * 1000 + ev.millis).toISOString(),
    event: { code: rec.type, provider: 'auditd', dataset: 'auditd' },
    winlog: {
      channel: AUDITD_CHANNEL,
      provider_name: 'auditd',
      event_id: rec.type,
      record_id: ev.serial,
    },
    log: { file: { path }, line: rec.line },
  };
  if (ev.node) {
    out.winlog.computer_name = ev.node;
    out.host = { name: ev.node };
  }
  return out;
}

/**
 * One joined audit event as Sigma sees it (`product: linux, service: auditd`):
 * an event per record, each with its own `type` and fields, the process
 * context of the SYSCALL record and the event's `cwd`. The EXECVE record
 * (all of the event's EXECVE records merged) also carries the full `a0…aN`
 * and the process-creation view: `Image`, `CommandLine`, `CurrentDirectory`,
 * `ProcessId`, `ParentProcessId`, `User`, `LogonId`.
 */
export function auditEventsOf(ev: AuditEvent, path: string): WinlogEvent[] {
  const sys = ev.records.find((r) => r.type === 'SYSCALL');
  const cwd = ev.records.find((r) => r.type === 'CWD')?.fields.get('cwd');
  const execs = ev.records.filter((r) => r.type === 'EXECVE');
  const out: WinlogEvent[] = [];
  let execveDone = false;
  for (const rec of ev.records) {
    if (rec.type === 'EXECVE') {
      if (execveDone) continue;
      execveDone = true;
    }
    // Field names come from the input: no prototype, so `constructor` or `__proto__` are plain names.
    const data: Record<string, unknown> = Object.create(null);
    data['type'] = rec.type;
    const own = rec.type === 'EXECVE' ? mergedExecve(execs) : rec.fields;
    for (const [k, v] of own) if (!(k in data)) data[k] = v;
    if (sys && rec !== sys)
      for (const k of CONTEXT) if (!(k in data) && sys.fields.has(k)) data[k] = sys.fields.get(k);
    if (cwd !== undefined && !('cwd' in data)) data['cwd'] = cwd;
    for (const [k, v] of rec.enriched) {
      // Rules name the syscall (SigmaHQ: `SYSCALL: personality`); field names compare case-insensitively.
      if (k === 'SYSCALL' && 'syscall' in data) {
        data['syscall_number'] = data['syscall'];
        data['syscall'] = v;
      } else if (!(k in data) && !(k.toLowerCase() in data)) data[k] = v;
    }
    if (rec.type === 'EXECVE') Object.assign(data, processCreation(execs, sys, cwd, ev));
    const e = baseEvent(ev, rec, path);
    e.winlog.event_data = data;
    out.push(e);
  }
  return out;
}

function mergedExecve(execs: readonly AuditRecord[]): Map<string, string> {
  const m = new Map<string, string>();
  const argv = argvOf(execs);
  const argc = execs[0]?.fields.get('argc');
  if (argc !== undefined) m.set('argc', argc);
  for (const [i, a] of argv.entries()) m.set(`a${i}`, a);
  return m;
}

function processCreation(
  execs: readonly AuditRecord[],
  sys: AuditRecord | undefined,
  cwd: string | undefined,
  ev: AuditEvent,
): Record<string, string> {
  const p: Record<string, string> = {};
  const argv = argvOf(execs);
  const image =
    sys?.fields.get('exe') ?? ev.records.find((r) => r.type === 'PATH')?.fields.get('name') ?? argv[0];
  if (image) p['Image'] = image;
  const cmd = argv.join(' ');
  if (cmd) p['CommandLine'] = cmd.length > MAX_COMMAND_LINE ? cmd.slice(0, MAX_COMMAND_LINE) : cmd;
  if (cwd !== undefined) p['CurrentDirectory'] = cwd;
  const pid = sys?.fields.get('pid');
  if (pid) p['ProcessId'] = pid;
  const ppid = sys?.fields.get('ppid');
  if (ppid) p['ParentProcessId'] = ppid;
  const user = userOf(sys);
  if (user) p['User'] = user;
  const auid = sys?.fields.get('auid');
  if (auid) p['LogonId'] = auid;
  return p;
}
