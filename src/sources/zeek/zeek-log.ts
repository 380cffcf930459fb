import type { ParseIssue } from '../../core/errors.ts';
import type { NetEvent } from '../../core/net-event.ts';
import { rcodeOf } from '../protocols/dns-message.ts';

/**
 * Zeek logs, TSV (with `#separator`/`#fields` headers) or JSON lines:
 * conn, dns, ssl, x509, http and dhcp become `NetEvent`s; other logs are skipped.
 * The log type comes from `#path`, else from the fields a record has.
 */
export type ZeekPath = 'conn' | 'dns' | 'ssl' | 'x509' | 'http' | 'dhcp';
type Rec = Record<string, unknown>;

export class ZeekLogParser {
  private readonly file: string;
  private sep = '\t';
  private setSep = ',';
  private unset = '-';
  private empty = '(empty)';
  private fields: string[] | undefined;
  private path: string | undefined;
  lines = 0;
  records = 0;

  constructor(file: string) {
    this.file = file;
  }

  /** One line of the log (without its newline). */
  line(text: string): NetEvent | ParseIssue | undefined {
    const n = ++this.lines;
    if (text.length === 0) return undefined;
    if (text.charCodeAt(0) === 0x23 || (text.charCodeAt(0) <= 0x20 && text.trimStart().startsWith('#'))) {
      this.header(text.trimStart());
      return undefined;
    }
    // Logs we do not read (notice, files, weird, …) are skipped without parsing.
    if (this.path !== undefined && !isPath(this.path)) return undefined;
    let rec: Rec;
    if (text.charCodeAt(0) === 0x7b) {
      try {
        const v: unknown = JSON.parse(text);
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        rec = v as Rec;
      } catch {
        return {
          code: 'ZEEK_BAD_JSON',
          message: 'line is not a JSON object; skipped',
          location: `${this.file}:${n}`,
        };
      }
    } else {
      if (!this.fields) {
        return {
          code: 'ZEEK_NO_FIELDS',
          message: 'TSV record before any #fields header; skipped',
          location: `${this.file}:${n}`,
        };
      }
      const cols = text.split(this.sep);
      if (cols.length !== this.fields.length) {
        return {
          code: 'ZEEK_BAD_COLUMNS',
          message: `${cols.length} columns where #fields names ${this.fields.length}; skipped`,
          location: `${this.file}:${n}`,
        };
      }
      rec = {};
      for (let i = 0; i < cols.length; i++) {
        const c = cols[i]!;
        if (c !== this.unset) rec[this.fields[i]!] = c === this.empty ? '' : c;
      }
    }
    this.records++;
    const kind = this.path && isPath(this.path) ? this.path : guessPath(rec);
    if (!kind) return undefined;
    return toEvent(kind, rec, this.file, n, this.setSep);
  }

  private header(text: string): void {
    if (text.startsWith('#separator')) {
      const v = text.slice('#separator'.length).trim();
      this.sep = v.replace(/\\x([0-9a-f]{2})/gi, (_m, h: string) =>
        String.fromCharCode(Number.parseInt(h, 16)),
      );
      return;
    }
    const i = text.indexOf(this.sep);
    if (i < 0) return;
    const key = text.slice(1, i);
    const rest = text.slice(i + this.sep.length);
    if (key === 'fields') this.fields = rest.split(this.sep);
    else if (key === 'path') this.path = rest;
    else if (key === 'set_separator') this.setSep = rest;
    else if (key === 'unset_field') this.unset = rest;
    else if (key === 'empty_field') this.empty = rest;
  }
}

function isPath(p: string): p is ZeekPath {
  return p === 'conn' || p === 'dns' || p === 'ssl' || p === 'x509' || p === 'http' || p === 'dhcp';
}

function guessPath(r: Rec): ZeekPath | undefined {
  if ('query' in r && 'id.orig_h' in r) return 'dns';
  if ('certificate.subject' in r) return 'x509';
  if ('server_name' in r || ('cipher' in r && 'id.orig_h' in r)) return 'ssl';
  if ('method' in r && 'uri' in r) return 'http';
  if ('host_name' in r && ('assigned_addr' in r || 'client_addr' in r || 'requested_addr' in r))
    return 'dhcp';
  if ('conn_state' in r || ('proto' in r && 'id.orig_h' in r && 'duration' in r)) return 'conn';
  return undefined;
}

function s(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

function list(v: unknown, setSep: string): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string' && v !== '') return v.split(setSep);
  return [];
}

function tsOf(v: unknown): number {
  const n = num(v);
  if (n !== undefined) return n * 1000;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  return 0;
}

const IP_RE = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)$/i;

function cnOf(dn: string): string[] {
  const out: string[] = [];
  for (const m of dn.matchAll(/(?:^|[,/]\s*)CN=([^,/]+)/g)) out.push(m[1]!.trim().toLowerCase());
  return out;
}

function toEvent(kind: ZeekPath, r: Rec, file: string, line: number, setSep: string): NetEvent | undefined {
  const base: NetEvent = { kind: 'flow', tsMs: tsOf(r['ts']), file, line };
  const oh = s(r['id.orig_h']);
  const rh = s(r['id.resp_h']);
  if (oh) base.src = { ip: oh, ...portOf(r['id.orig_p']) };
  if (rh) base.dst = { ip: rh, ...portOf(r['id.resp_p']) };
  const proto = s(r['proto']);
  if (proto === 'tcp' || proto === 'udp') base.transport = proto;
  switch (kind) {
    case 'conn': {
      const hist = s(r['history']);
      const state = s(r['conn_state']);
      base.opened = hist ? hist.startsWith('S') : state !== undefined && state !== 'OTH';
      return base;
    }
    case 'dns': {
      const q = s(r['query']);
      if (!q) return undefined;
      const qtype = s(r['qtype_name']);
      // Name answers are CNAMEs, except to a PTR question, where they name the address asked about.
      const nameType = qtype === 'PTR' ? 'PTR' : 'CNAME';
      const answers = list(r['answers'], setSep).map((a) => ({
        name: q,
        type: IP_RE.test(a) ? (a.includes(':') ? 'AAAA' : 'A') : nameType,
        data: a,
      }));
      base.kind = 'dns';
      // A transaction with a reply carries its rcode (unset, "-", when none came back).
      const rcode = num(r['rcode']) ?? rcodeOf(s(r['rcode_name']));
      base.dns = {
        response: answers.length > 0 || rcode !== undefined,
        ...(rcode !== undefined ? { rcode } : {}),
        questions: [{ name: q.toLowerCase(), type: s(r['qtype_name']) ?? 'A' }],
        answers,
      };
      return base;
    }
    case 'ssl': {
      base.kind = 'tls';
      const tls: NonNullable<NetEvent['tls']> = {};
      const sni = s(r['server_name']);
      if (sni) tls.serverName = sni.toLowerCase();
      const subj = s(r['subject']);
      if (subj) tls.certSubjectCn = cnOf(subj);
      if (!tls.serverName && !tls.certSubjectCn?.length) return undefined;
      base.tls = tls;
      return base;
    }
    case 'x509': {
      base.kind = 'tls';
      const cn = cnOf(s(r['certificate.subject']) ?? '');
      const san = list(r['san.dns'], setSep).map((x) => x.toLowerCase());
      if (cn.length === 0 && san.length === 0) return undefined;
      base.tls = { certSubjectCn: cn, certSans: san };
      return base;
    }
    case 'http': {
      base.kind = 'http';
      const http: NonNullable<NetEvent['http']> = {};
      const m = s(r['method']);
      if (m) http.method = m;
      const host = s(r['host']);
      if (host) http.host = host.toLowerCase().replace(/:\d+$/, '');
      const uri = s(r['uri']);
      if (uri) http.uri = uri.slice(0, 512);
      const ua = s(r['user_agent']);
      if (ua) http.userAgent = ua.slice(0, 256);
      base.http = http;
      return base;
    }
    case 'dhcp': {
      const hostname = s(r['host_name']) ?? s(r['client_fqdn']);
      const ip = s(r['assigned_addr']) ?? s(r['requested_addr']) ?? s(r['client_addr']);
      if (!hostname || !ip || !IP_RE.test(ip)) return undefined;
      base.kind = 'dhcp';
      const mac = s(r['mac']);
      base.dhcp = { hostname: hostname.slice(0, 253), ip, ...(mac ? { mac } : {}) };
      return base;
    }
  }
}

function portOf(v: unknown): { port?: number } {
  const n = num(v);
  return n === undefined ? {} : { port: n };
}
