/**
 * One line of the Linux audit log (`/var/log/audit/audit.log`, as auditd
 * writes it in its RAW or ENRICHED format):
 *
 *   [node=HOST ]type=NAME msg=audit(SECONDS.MILLIS:SERIAL): key=value …[\x1d KEY=value …]
 *
 * Values are `"quoted"`, `'quoted'` (the user-space message of PAM, login and
 * service records, itself key=value pairs), or bare; bare values of fields
 * that can hold untrusted text (file names, commands, arguments) are the
 * text hex-encoded, which is how auditd writes any value with a space,
 * quote or control character (auditd's `audit_log_untrustedstring`).
 */

export interface AuditRecord {
  type: string;
  /** Event time: Unix seconds and milliseconds as the kernel stamped them. */
  seconds: number;
  millis: number;
  serial: number;
  node?: string;
  /** Field → decoded value, in line order; the first of a repeated name is kept. */
  fields: Map<string, string>;
  /** Fields of the ENRICHED format's trailing part (upper-case names: UID, AUID, SYSCALL…). */
  enriched: Map<string, string>;
  /** Bare values (not quoted), for EXECVE arguments that are hex only when bare. */
  bare: Set<string>;
  line: number;
}

export type RecordResult = AuditRecord | { error: string };

const HEADER = /^(?:node=(\S+) )?type=([A-Za-z0-9_[\]]+) msg=audit\((\d{1,12})\.(\d{1,6}):(\d{1,20})\):?/;
const HEX = /^(?:[0-9A-F]{2})+$/;

/**
 * Fields auditd writes with `audit_log_untrustedstring` / `audit_log_n_untrustedstring`
 * (hex when they hold a space, a quote or a control character), after the
 * field table of libauparse (`auparse/typetab.h`: AUPARSE_TYPE_ESCAPED and friends).
 */
const ENCODED = new Set([
  'exe',
  'comm',
  'name',
  'cwd',
  'proctitle',
  'path',
  'acct',
  'cmd',
  'key',
  'dir',
  'file',
  'ocomm',
  'watch',
  'new',
  'old',
  'data',
  'old-chardev',
  'new-chardev',
  'root_dir',
  'vm',
  'sw',
]);
const EXECVE_ARG = /^a\d+(?:\[\d+\])?$/;

/** Hex text as a string; NUL bytes (argument separators in PROCTITLE) become spaces. */
export function decodeHex(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return text.replace(/\u0000+$/, '').replaceAll('\u0000', ' ');
}

/**
 * Splits `key=value key="v w" key='…'` into pairs, in order; words without a
 * value are skipped. Linear in the line: the next `=` is looked up once and
 * reused until the scan passes it (a line of many bare words must not cost
 * a scan to its end per word).
 */
function* pairs(text: string): Generator<[string, string, boolean]> {
  let i = 0;
  const n = text.length;
  let eq = -1;
  while (i < n) {
    while (i < n && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09)) i++;
    if (i >= n) return;
    if (eq < i) {
      eq = text.indexOf('=', i);
      if (eq < 0) return;
    }
    const sp = text.indexOf(' ', i);
    if (sp >= 0 && sp < eq) {
      i = sp + 1;
      continue;
    }
    const key = text.slice(i, eq);
    i = eq + 1;
    const q = text[i];
    if (q === '"' || q === "'") {
      const end = text.indexOf(q, i + 1);
      const stop = end < 0 ? n : end;
      yield [key, text.slice(i + 1, stop), false];
      i = stop + 1;
    } else {
      const end = text.indexOf(' ', i);
      const stop = end < 0 ? n : end;
      yield [key, text.slice(i, stop), true];
      i = stop;
    }
  }
}

function fieldValue(type: string, key: string, raw: string, bare: boolean): string | undefined {
  if (bare && (raw === '(null)' || raw === '(none)' || raw === '?')) return undefined;
  if (!bare || !HEX.test(raw)) return raw;
  if (ENCODED.has(key) || (type === 'EXECVE' && EXECVE_ARG.test(key))) return decodeHex(raw);
  return raw;
}

/** Several keys of one rule are joined by \x01 (auditctl -k a -k b); rules compare against one key. */
function firstKey(v: string): string {
  const at = v.indexOf('\u0001');
  return at < 0 ? v : v.slice(0, at);
}

export function parseAuditLine(line: string, lineNo: number): RecordResult {
  const m = HEADER.exec(line);
  if (!m) return { error: 'not an audit record (expected type=… msg=audit(…))' };
  const seconds = Number(m[3]);
  const millis = Number(m[4]!.padEnd(3, '0').slice(0, 3));
  const serial = Number(m[5]);
  if (!Number.isSafeInteger(serial)) return { error: 'audit serial out of range' };
  const type = m[2]!;
  const rec: AuditRecord = {
    type,
    seconds,
    millis,
    serial,
    fields: new Map(),
    enriched: new Map(),
    bare: new Set(),
    line: lineNo,
  };
  if (m[1]) rec.node = m[1];
  let body = line.slice(m[0].length);
  const gs = body.indexOf('\u001d');
  if (gs >= 0) {
    for (const [k, v] of pairs(body.slice(gs + 1))) if (!rec.enriched.has(k)) rec.enriched.set(k, v);
    body = body.slice(0, gs);
  }
  for (const [k, raw, bare] of pairs(body)) {
    if (rec.fields.has(k)) continue;
    if (k === 'msg' && !bare) {
      // The user-space part of PAM, login and service records: its pairs are fields too.
      rec.fields.set('msg', raw);
      for (const [ik, iraw, ibare] of pairs(raw)) {
        if (rec.fields.has(ik)) continue;
        const v = fieldValue(type, ik, iraw, ibare);
        if (v !== undefined) rec.fields.set(ik, ik === 'key' ? firstKey(v) : v);
      }
      continue;
    }
    const v = fieldValue(type, k, raw, bare);
    if (v === undefined) continue;
    rec.fields.set(k, k === 'key' ? firstKey(v) : v);
    if (bare) rec.bare.add(k);
  }
  return rec;
}
