/**
 * DHCP (RFC 2131/2132) messages, only as far as they name a host: the client's
 * host name (option 12) and the address it holds, asks for or is given
 * (ciaddr, option 50, yiaddr). This is how a capture learns that 192.0.2.15
 * is `office-pc-17`.
 */
export interface DhcpNaming {
  hostname: string;
  ip: string;
  mac?: string;
}

const COOKIE = 0x63825363;
const OPTIONS_AT = 240;

function ipv4(b: Uint8Array, p: number): string {
  return `${b[p]}.${b[p + 1]}.${b[p + 2]}.${b[p + 3]}`;
}

/** The naming a DHCP message carries, or undefined (not DHCP, no host name, or no address). */
export function parseDhcpNaming(buf: Uint8Array, off: number, len: number): DhcpNaming | undefined {
  if (len < OPTIONS_AT + 1) return undefined;
  const end = off + len;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(off + 236, false) !== COOKIE) return undefined;
  let hostname: string | undefined;
  let requested: string | undefined;
  // Options are type-length-value; the walk never goes past the message, whatever the lengths say.
  let p = off + OPTIONS_AT;
  while (p < end) {
    const type = buf[p]!;
    if (type === 255) break;
    if (type === 0) {
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const l = buf[p + 1]!;
    const v = p + 2;
    if (v + l > end) break;
    if (type === 12 && l > 0) hostname = printable(buf, v, v + l);
    else if (type === 50 && l === 4) requested = ipv4(buf, v);
    p = v + l;
  }
  if (!hostname) return undefined;
  const ciaddr = dv.getUint32(off + 12, false);
  const yiaddr = dv.getUint32(off + 16, false);
  const ip =
    yiaddr !== 0 ? ipv4(buf, off + 16) : (requested ?? (ciaddr !== 0 ? ipv4(buf, off + 12) : undefined));
  if (!ip) return undefined;
  const out: DhcpNaming = { hostname, ip };
  // Ethernet hardware addresses (htype 1, hlen 6) only.
  if (buf[off + 1] === 1 && buf[off + 2] === 6) {
    const m: string[] = [];
    for (let i = 0; i < 6; i++) m.push(buf[off + 28 + i]!.toString(16).padStart(2, '0'));
    out.mac = m.join(':');
  }
  return out;
}

/** Host names are letters, digits, '-' and '.'; anything else ends the name (a name with controls is not one). */
function printable(buf: Uint8Array, a: number, b: number): string | undefined {
  let s = '';
  for (let i = a; i < b; i++) {
    const c = buf[i]!;
    if (c === 0) break;
    const ok =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x2d ||
      c === 0x2e ||
      c === 0x5f;
    if (!ok) return undefined;
    s += String.fromCharCode(c);
  }
  return s === '' ? undefined : s;
}
