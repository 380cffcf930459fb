/**
 * The few TLS handshake facts a miner hunt needs (RFC 8446 §4, RFC 5246
 * §7.4): the ClientHello's server_name (RFC 6066 §3), whether the server
 * chose TLS 1.3 (after which certificates are encrypted), and for TLS ≤ 1.2
 * the server certificate's subject CN and DNS SANs (RFC 5280 §4.1.2.6,
 * §4.2.1.6). Everything is bounds-checked; bad input yields nothing.
 */
export interface TlsFacts {
  serverName?: string;
  tls13?: boolean;
  certSubjectCn?: string[];
  certSans?: string[];
}

/** Reads handshake messages out of a reassembled TLS record stream, incrementally. */
export class TlsStream {
  private hs = new Uint8Array(0);
  private recPos = 0;
  done = false;
  readonly facts: TlsFacts = {};

  /** `data` is the whole contiguous stream so far; returns how much of it was consumed. */
  feed(data: Uint8Array): void {
    while (!this.done && this.recPos + 5 <= data.length) {
      const type = data[this.recPos]!;
      const len = (data[this.recPos + 3]! << 8) | data[this.recPos + 4]!;
      if (data[this.recPos + 1] !== 3 || len > 18432) {
        this.done = true;
        return;
      }
      if (this.recPos + 5 + len > data.length) return;
      const body = data.subarray(this.recPos + 5, this.recPos + 5 + len);
      this.recPos += 5 + len;
      if (type === 22) {
        const joined = new Uint8Array(this.hs.length + body.length);
        joined.set(this.hs, 0);
        joined.set(body, this.hs.length);
        this.hs = joined;
        this.handshakes();
      } else if (type === 20 || type === 23) {
        // ChangeCipherSpec or application data: what follows is encrypted.
        this.done = true;
      }
    }
  }

  private handshakes(): void {
    let p = 0;
    const hs = this.hs;
    while (p + 4 <= hs.length) {
      const t = hs[p]!;
      const len = (hs[p + 1]! << 16) | (hs[p + 2]! << 8) | hs[p + 3]!;
      if (p + 4 + len > hs.length) break;
      const body = hs.subarray(p + 4, p + 4 + len);
      if (t === 1) {
        const sni = clientHelloServerName(body);
        if (sni) this.facts.serverName = sni;
        this.done = true;
      } else if (t === 2) {
        if (serverHelloIsTls13(body)) {
          this.facts.tls13 = true;
          this.done = true;
        }
      } else if (t === 11) {
        const names = certificateNames(body);
        if (names) {
          this.facts.certSubjectCn = names.cn;
          this.facts.certSans = names.san;
        }
        this.done = true;
      } else if (t === 14) {
        this.done = true;
      }
      p += 4 + len;
    }
    this.hs = hs.slice(p);
  }
}

/** Walks ClientHello extensions; returns the host_name entry of server_name, if any. */
export function clientHelloServerName(b: Uint8Array): string | undefined {
  const ext = helloExtensions(b, true);
  if (!ext) return undefined;
  for (const [type, s, e] of ext) {
    if (type !== 0 || e - s < 5) continue;
    let p = s + 2;
    while (p + 3 <= e) {
      const nt = b[p]!;
      const nl = (b[p + 1]! << 8) | b[p + 2]!;
      if (p + 3 + nl > e) return undefined;
      if (nt === 0) return ascii(b, p + 3, p + 3 + nl).toLowerCase();
      p += 3 + nl;
    }
  }
  return undefined;
}

function serverHelloIsTls13(b: Uint8Array): boolean {
  const ext = helloExtensions(b, false);
  if (!ext) return false;
  for (const [type, s, e] of ext) if (type === 43 && e - s >= 2 && b[s] === 3 && b[s + 1] === 4) return true;
  return false;
}

/** [type, start, end] of each extension of a ClientHello or ServerHello body. */
function helloExtensions(b: Uint8Array, client: boolean): [number, number, number][] | undefined {
  let p = 2 + 32;
  if (p >= b.length) return undefined;
  p += 1 + b[p]!;
  if (client) {
    if (p + 2 > b.length) return undefined;
    p += 2 + ((b[p]! << 8) | b[p + 1]!);
    if (p >= b.length) return undefined;
    p += 1 + b[p]!;
  } else {
    p += 2 + 1;
  }
  if (p + 2 > b.length) return undefined;
  const end = Math.min(b.length, p + 2 + ((b[p]! << 8) | b[p + 1]!));
  p += 2;
  const out: [number, number, number][] = [];
  while (p + 4 <= end) {
    const t = (b[p]! << 8) | b[p + 1]!;
    const l = (b[p + 2]! << 8) | b[p + 3]!;
    if (p + 4 + l > end) break;
    out.push([t, p + 4, p + 4 + l]);
    p += 4 + l;
  }
  return out;
}

/** Subject CN and DNS SANs of the first (leaf) certificate of a Certificate message. */
export function certificateNames(b: Uint8Array): { cn: string[]; san: string[] } | undefined {
  if (b.length < 6) return undefined;
  const certLen = (b[3]! << 16) | (b[4]! << 8) | b[5]!;
  if (6 + certLen > b.length) return undefined;
  const cert = b.subarray(6, 6 + certLen);
  const top = der(cert, 0, cert.length);
  if (!top || top.tag !== 0x30) return undefined;
  const tbs = der(cert, top.s, top.e);
  if (!tbs || tbs.tag !== 0x30) return undefined;
  const fields: Der[] = [];
  for (let p = tbs.s; p < tbs.e; ) {
    const d = der(cert, p, tbs.e);
    if (!d) break;
    fields.push(d);
    p = d.e;
  }
  const i0 = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[i0 + 4];
  const cn: string[] = [];
  const san: string[] = [];
  if (subject?.tag === 0x30) {
    for (let p = subject.s; p < subject.e; ) {
      const set = der(cert, p, subject.e);
      if (!set) break;
      for (let q = set.s; q < set.e; ) {
        const atv = der(cert, q, set.e);
        if (!atv) break;
        const oid = der(cert, atv.s, atv.e);
        if (oid && oid.tag === 6 && oid.e - oid.s === 3 && cert[oid.s] === 0x55 && cert[oid.s + 1] === 4) {
          if (cert[oid.s + 2] === 3) {
            const v = der(cert, oid.e, atv.e);
            if (v) cn.push(ascii(cert, v.s, v.e).toLowerCase());
          }
        }
        q = atv.e;
      }
      p = set.e;
    }
  }
  const extWrap = fields.find((f) => f.tag === 0xa3);
  const exts = extWrap ? der(cert, extWrap.s, extWrap.e) : undefined;
  if (exts?.tag === 0x30) {
    for (let p = exts.s; p < exts.e; ) {
      const ext = der(cert, p, exts.e);
      if (!ext) break;
      const oid = der(cert, ext.s, ext.e);
      if (oid?.tag === 6 && oid.e - oid.s === 3 && cert[oid.s] === 0x55 && cert[oid.s + 1] === 0x1d) {
        if (cert[oid.s + 2] === 0x11) {
          let v = der(cert, oid.e, ext.e);
          if (v?.tag === 1) v = der(cert, v.e, ext.e);
          const seq = v?.tag === 4 ? der(cert, v.s, v.e) : undefined;
          if (seq?.tag === 0x30) {
            for (let q = seq.s; q < seq.e; ) {
              const gn = der(cert, q, seq.e);
              if (!gn) break;
              if (gn.tag === 0x82) san.push(ascii(cert, gn.s, gn.e).toLowerCase());
              q = gn.e;
            }
          }
        }
      }
      p = ext.e;
    }
  }
  return { cn, san };
}

interface Der {
  tag: number;
  /** Content start and end. */
  s: number;
  e: number;
}

function der(b: Uint8Array, p: number, limit: number): Der | undefined {
  if (p + 2 > limit) return undefined;
  const tag = b[p]!;
  let len = b[p + 1]!;
  let s = p + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || s + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[s + i]!;
    s += n;
  }
  if (s + len > limit) return undefined;
  return { tag, s, e: s + len };
}

function ascii(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  return out;
}
