import type { ParseIssue } from '../../core/errors.ts';
import type { NetEvent } from '../../core/net-event.ts';
import { rcodeOf } from '../protocols/dns-message.ts';

/**
 * Suricata `eve.json` lines: flow, dns (eve formats 1, 2 and 3), tls, http
 * and alert become `NetEvent`s; other event types are skipped.
 */
type Rec = Record<string, unknown>;

function obj(v: unknown): Rec | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : undefined;
}

function s(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function cnOf(dn: string): string[] {
  const out: string[] = [];
  for (const m of dn.matchAll(/(?:^|,)\s*CN=([^,]+)/g)) out.push(m[1]!.trim().toLowerCase());
  return out;
}

export function parseEveLine(text: string, file: string, line: number): NetEvent | ParseIssue | undefined {
  if (text.trim() === '') return undefined;
  let r: Rec | undefined;
  try {
    r = obj(JSON.parse(text));
  } catch {
    r = undefined;
  }
  if (!r)
    return {
      code: 'EVE_BAD_JSON',
      message: 'line is not a JSON object; skipped',
      location: `${file}:${line}`,
    };
  const type = s(r['event_type']);
  const t = Date.parse(s(r['timestamp']) ?? '');
  const e: NetEvent = { kind: 'flow', tsMs: Number.isFinite(t) ? t : 0, file, line };
  const src = s(r['src_ip']);
  const dst = s(r['dest_ip']);
  if (src) e.src = typeof r['src_port'] === 'number' ? { ip: src, port: r['src_port'] } : { ip: src };
  if (dst) e.dst = typeof r['dest_port'] === 'number' ? { ip: dst, port: r['dest_port'] } : { ip: dst };
  const proto = s(r['proto'])?.toLowerCase();
  if (proto === 'tcp' || proto === 'udp') e.transport = proto;
  switch (type) {
    case 'flow': {
      const flow = obj(r['flow']);
      const start = Date.parse(s(flow?.['start']) ?? '');
      if (Number.isFinite(start)) e.tsMs = start;
      const tcp = obj(r['tcp']);
      e.opened = e.transport === 'tcp' ? tcp?.['syn'] === true : true;
      return e;
    }
    case 'dns':
      return dnsEvent(e, obj(r['dns']));
    case 'tls': {
      const tls = obj(r['tls']);
      if (!tls) return undefined;
      const out: NonNullable<NetEvent['tls']> = {};
      const sni = s(tls['sni']);
      if (sni) out.serverName = sni.toLowerCase();
      const subj = s(tls['subject']);
      if (subj) out.certSubjectCn = cnOf(subj);
      e.kind = 'tls';
      e.tls = out;
      return e;
    }
    case 'http': {
      const h = obj(r['http']);
      if (!h) return undefined;
      e.kind = 'http';
      const out: NonNullable<NetEvent['http']> = {};
      const host = s(h['hostname']);
      if (host) out.host = host.toLowerCase();
      const url = s(h['url']);
      if (url) out.uri = url.slice(0, 512);
      const ua = s(h['http_user_agent']);
      if (ua) out.userAgent = ua.slice(0, 256);
      const m = s(h['http_method']);
      if (m) out.method = m;
      e.http = out;
      return e;
    }
    case 'alert': {
      const a = obj(r['alert']);
      const sig = s(a?.['signature']);
      if (!a || !sig) return undefined;
      e.kind = 'alert';
      e.alert = { signature: sig };
      const cat = s(a['category']);
      if (cat) e.alert.category = cat;
      if (typeof a['severity'] === 'number') e.alert.severity = a['severity'];
      return e;
    }
    default:
      return undefined;
  }
}

function dnsEvent(e: NetEvent, d: Rec | undefined): NetEvent | undefined {
  if (!d) return undefined;
  const questions: { name: string; type: string }[] = [];
  const answers: { name: string; type: string; data: string }[] = [];
  const kind = s(d['type']);
  const rrname = s(d['rrname']);
  if (Array.isArray(d['queries'])) {
    for (const q of d['queries']) {
      const o = obj(q);
      const n = s(o?.['rrname']);
      if (n) questions.push({ name: n.toLowerCase(), type: s(o?.['rrtype']) ?? 'A' });
    }
  } else if (rrname) questions.push({ name: rrname.toLowerCase(), type: s(d['rrtype']) ?? 'A' });
  if (Array.isArray(d['answers'])) {
    for (const a of d['answers']) {
      const o = obj(a);
      const data = s(o?.['rdata']);
      if (data) answers.push({ name: s(o?.['rrname']) ?? rrname ?? '', type: s(o?.['rrtype']) ?? '', data });
    }
  } else if (kind === 'answer' && rrname && s(d['rdata'])) {
    answers.push({ name: rrname, type: s(d['rrtype']) ?? '', data: s(d['rdata'])! });
  }
  if (questions.length === 0) return undefined;
  const response = kind === 'answer' || answers.length > 0;
  const rcode = response ? rcodeOf(s(d['rcode'])) : undefined;
  // Answers travel server → client; events name the client as source.
  if (response && e.src && e.dst && e.src.port === 53) {
    const t = e.src;
    e.src = e.dst;
    e.dst = t;
  }
  e.kind = 'dns';
  e.dns = { response, ...(rcode !== undefined ? { rcode } : {}), questions, answers };
  return e;
}
