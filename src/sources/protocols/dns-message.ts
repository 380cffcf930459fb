import { ipv4String, ipv6String } from '../pcap/decode.ts';

/**
 * DNS wire format (RFC 1035 §4), read-only and hostile-input safe: every
 * compression pointer must point strictly backwards, at most 64 pointers per
 * name and 255 bytes of name (RFC 1035 §2.3.4), counts are capped by the bytes
 * actually present.
 */
export interface DnsMessage {
  id: number;
  response: boolean;
  rcode: number;
  questions: { name: string; type: string }[];
  answers: { name: string; type: string; data: string; ttl: number }[];
}

export type DnsResult = DnsMessage | { error: string };

/** DNS response codes by name (RFC 1035 §4.1.1, RFC 2136 §2.2), as Zeek and Suricata print them. */
const RCODES = new Map(
  [
    'NOERROR',
    'FORMERR',
    'SERVFAIL',
    'NXDOMAIN',
    'NOTIMP',
    'REFUSED',
    'YXDOMAIN',
    'YXRRSET',
    'NXRRSET',
    'NOTAUTH',
    'NOTZONE',
  ].map((name, code) => [name, code]),
);

/** The number of a response code name (`NXDOMAIN` → 3); undefined for anything else. */
export function rcodeOf(name: string | undefined): number | undefined {
  return name === undefined ? undefined : RCODES.get(name.toUpperCase());
}

/** RFC 1035 name-error: the name does not exist. */
export { NXDOMAIN } from '../../core/net-event.ts';

const TYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  41: 'OPT',
  64: 'SVCB',
  65: 'HTTPS',
  255: 'ANY',
};

export function dnsTypeName(t: number): string {
  return TYPES[t] ?? `TYPE${t}`;
}

const MAX_RECORDS = 256;

export function parseDnsMessage(buf: Uint8Array, off: number, len: number): DnsResult {
  if (len < 12) return { error: 'DNS_SHORT' };
  const end = off + len;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const flags = dv.getUint16(off + 2, false);
  const qd = dv.getUint16(off + 4, false);
  const an = dv.getUint16(off + 6, false);
  const msg: DnsMessage = {
    id: dv.getUint16(off, false),
    response: (flags & 0x8000) !== 0,
    rcode: flags & 0x0f,
    questions: [],
    answers: [],
  };
  const cursor = { p: off + 12 };
  for (let i = 0; i < qd && i < MAX_RECORDS; i++) {
    const name = readName(buf, off, end, cursor);
    if (typeof name !== 'string') return name;
    if (cursor.p + 4 > end) return { error: 'DNS_TRUNCATED' };
    msg.questions.push({ name, type: dnsTypeName(dv.getUint16(cursor.p, false)) });
    cursor.p += 4;
  }
  for (let i = 0; i < an && i < MAX_RECORDS; i++) {
    const name = readName(buf, off, end, cursor);
    if (typeof name !== 'string') return msg.questions.length ? msg : name;
    if (cursor.p + 10 > end) return msg;
    const type = dv.getUint16(cursor.p, false);
    const rdlen = dv.getUint16(cursor.p + 8, false);
    const rd = cursor.p + 10;
    if (rd + rdlen > end) return msg;
    let data: string | undefined;
    if (type === 1 && rdlen === 4) data = ipv4String(dv.getUint32(rd, false));
    else if (type === 28 && rdlen === 16)
      data = ipv6String(
        dv.getUint32(rd, false),
        dv.getUint32(rd + 4, false),
        dv.getUint32(rd + 8, false),
        dv.getUint32(rd + 12, false),
      );
    else if (type === 5 || type === 2 || type === 12) {
      const r = readName(buf, off, rd + rdlen, { p: rd });
      if (typeof r === 'string') data = r;
    } else if (type === 15 && rdlen > 2) {
      const r = readName(buf, off, rd + rdlen, { p: rd + 2 });
      if (typeof r === 'string') data = r;
    } else if (type === 16) data = readTxt(buf, rd, rd + rdlen);
    if (data !== undefined)
      msg.answers.push({ name, type: dnsTypeName(type), data, ttl: dv.getUint32(cursor.p + 4, false) });
    cursor.p = rd + rdlen;
  }
  return msg;
}

function readTxt(buf: Uint8Array, p: number, end: number): string {
  let out = '';
  while (p < end) {
    const l = buf[p]!;
    const e = Math.min(end, p + 1 + l);
    out += latin1(buf, p + 1, e);
    p = e;
  }
  return out;
}

function latin1(buf: Uint8Array, a: number, b: number): string {
  let s = '';
  for (let i = a; i < b; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/** Reads a possibly compressed name at `cursor.p`, advancing the cursor past it. */
function readName(
  buf: Uint8Array,
  msgStart: number,
  end: number,
  cursor: { p: number },
): string | { error: string } {
  let p = cursor.p;
  let jumped = false;
  let jumps = 0;
  let wire = 0;
  let name = '';
  for (;;) {
    if (p >= end) return { error: 'DNS_TRUNCATED' };
    const l = buf[p]!;
    if (l === 0) {
      if (!jumped) cursor.p = p + 1;
      return name === '' ? '.' : name;
    }
    if ((l & 0xc0) === 0xc0) {
      if (p + 1 >= end) return { error: 'DNS_TRUNCATED' };
      const target = msgStart + (((l & 0x3f) << 8) | buf[p + 1]!);
      if (!jumped) cursor.p = p + 2;
      jumped = true;
      // Pointers must point backwards, and the hop count is capped: no loop can hang us.
      if (target >= p || ++jumps > 64) return { error: 'DNS_POINTER_LOOP' };
      p = target;
      continue;
    }
    if ((l & 0xc0) !== 0) return { error: 'DNS_BAD_LABEL' };
    if (p + 1 + l > end) return { error: 'DNS_TRUNCATED' };
    wire += l + 1;
    if (wire > 255) return { error: 'DNS_NAME_TOO_LONG' };
    const label = labelText(buf, p + 1, p + 1 + l);
    name = name === '' ? label : `${name}.${label}`;
    p += 1 + l;
  }
}

/** Printable ASCII as is; anything else escaped as \DDD (RFC 4343 presentation form). */
function labelText(buf: Uint8Array, a: number, b: number): string {
  let s = '';
  for (let i = a; i < b; i++) {
    const c = buf[i]!;
    if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c)
      s += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
    else s += `\\${c.toString().padStart(3, '0')}`;
  }
  return s;
}
