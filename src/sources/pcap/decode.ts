import type { FragmentReassembler } from './ip-fragments.ts';

/**
 * Link layer → IP → TCP/UDP, parsed in place into one reused `PacketView`
 * (no allocation per packet). Addresses stay as 32-bit words; strings are made
 * only for the few packets a detector reports on.
 */
export class PacketView {
  buf: Uint8Array = new Uint8Array(0);
  dv: DataView = new DataView(new ArrayBuffer(0));
  ipVersion = 0;
  /** IPv4 address in a0 (b0); IPv6 addresses in a0..a3 (b0..b3), big-endian words. */
  a0 = 0;
  a1 = 0;
  a2 = 0;
  a3 = 0;
  b0 = 0;
  b1 = 0;
  b2 = 0;
  b3 = 0;
  /** 6 TCP, 17 UDP, other IP protocols as numbers. */
  proto = 0;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  seq = 0;
  payloadOff = 0;
  payloadLen = 0;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export const Decoded = {
  Ok: 0,
  /** Not IP, or an IP protocol we do not follow (ICMP, ARP, …). */
  Skipped: 1,
  /** Headers shorter than they claim: counted as malformed. */
  Malformed: 2,
  /** An IPv4 fragment held for reassembly. */
  Held: 3,
} as const;
export type Decoded = (typeof Decoded)[keyof typeof Decoded];

/** Link types from https://www.tcpdump.org/linktypes.html */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  SLL: 113,
  IPV4: 228,
  IPV6: 229,
  SLL2: 276,
};

export function decodePacket(
  pv: PacketView,
  buf: Uint8Array,
  dv: DataView,
  off: number,
  len: number,
  linktype: number,
  frags: FragmentReassembler,
  tsMs: number,
): Decoded {
  const end = off + len;
  let p = off;
  let etype = 0;
  switch (linktype) {
    case 1: {
      if (len < 14) return Decoded.Malformed;
      etype = dv.getUint16(p + 12, false);
      p += 14;
      // 802.1Q and 802.1ad (QinQ) tags, possibly stacked.
      while ((etype === 0x8100 || etype === 0x88a8 || etype === 0x9100) && p + 4 <= end) {
        etype = dv.getUint16(p + 2, false);
        p += 4;
      }
      break;
    }
    case 113:
      if (len < 16) return Decoded.Malformed;
      etype = dv.getUint16(p + 14, false);
      p += 16;
      break;
    case 276:
      if (len < 20) return Decoded.Malformed;
      etype = dv.getUint16(p, false);
      p += 20;
      break;
    case 0:
    case 108: {
      if (len < 4) return Decoded.Malformed;
      // NULL stores the address family in the capturing host's byte order, LOOP in network order.
      let af = linktype === 108 ? dv.getUint32(p, false) : dv.getUint32(p, true);
      if (linktype === 0 && af > 0xffff) af = dv.getUint32(p, false);
      p += 4;
      etype = af === 2 ? 0x0800 : af === 24 || af === 28 || af === 30 ? 0x86dd : 0;
      break;
    }
    case 101:
    case 12:
    case 14:
    case 228:
    case 229: {
      if (len < 1) return Decoded.Malformed;
      const v = buf[p]! >> 4;
      etype = v === 4 ? 0x0800 : v === 6 ? 0x86dd : 0;
      break;
    }
    default:
      return Decoded.Skipped;
  }
  if (etype === 0x8864) {
    // PPPoE session: 6-byte PPPoE header, then the 2-byte PPP protocol (0x0021 IPv4, 0x0057 IPv6).
    if (p + 8 > end) return Decoded.Malformed;
    const ppp = dv.getUint16(p + 6, false);
    p += 8;
    etype = ppp === 0x0021 ? 0x0800 : ppp === 0x0057 ? 0x86dd : 0;
  } else if (etype === 0x8847) {
    // MPLS: skip labels to the bottom of the stack, then read the IP version nibble.
    while (p + 4 <= end && (buf[p + 2]! & 1) === 0) p += 4;
    p += 4;
    if (p >= end) return Decoded.Malformed;
    const v = buf[p]! >> 4;
    etype = v === 4 ? 0x0800 : v === 6 ? 0x86dd : 0;
  }
  if (etype === 0x0800) return decodeIpv4(pv, buf, dv, p, end - p, frags, tsMs);
  if (etype === 0x86dd) return decodeIpv6(pv, buf, dv, p, end - p);
  return Decoded.Skipped;
}

function decodeIpv4(
  pv: PacketView,
  buf: Uint8Array,
  dv: DataView,
  p: number,
  len: number,
  frags: FragmentReassembler,
  tsMs: number,
): Decoded {
  if (len < 20 || buf[p]! >> 4 !== 4) return Decoded.Malformed;
  const ihl = (buf[p]! & 0x0f) * 4;
  let total = dv.getUint16(p + 2, false);
  // Captured before TCP segmentation offload: the stack leaves total length 0 and the NIC fills it in.
  if (total === 0) total = len;
  if (ihl < 20 || total < ihl || ihl > len) return Decoded.Malformed;
  // Ethernet pads short frames; the IP total length is the truth (if it fits what was captured).
  const ipLen = total <= len ? total : len;
  const flags = dv.getUint16(p + 6, false);
  if ((flags & 0x3fff) !== 0) {
    const whole = frags.add(buf, dv, p, ipLen, tsMs);
    if (!whole) return Decoded.Held;
    const wdv = new DataView(whole.buffer, whole.byteOffset, whole.byteLength);
    return decodeIpv4(pv, whole, wdv, 0, whole.length, frags, tsMs);
  }
  pv.buf = buf;
  pv.dv = dv;
  pv.ipVersion = 4;
  pv.a0 = dv.getUint32(p + 12, false);
  pv.b0 = dv.getUint32(p + 16, false);
  pv.a1 = pv.a2 = pv.a3 = pv.b1 = pv.b2 = pv.b3 = 0;
  return decodeTransport(pv, buf, dv, buf[p + 9]!, p + ihl, ipLen - ihl);
}

function decodeIpv6(pv: PacketView, buf: Uint8Array, dv: DataView, p: number, len: number): Decoded {
  if (len < 40 || buf[p]! >> 4 !== 6) return Decoded.Malformed;
  const plen = dv.getUint16(p + 4, false);
  let next = buf[p + 6]!;
  pv.buf = buf;
  pv.dv = dv;
  pv.ipVersion = 6;
  pv.a0 = dv.getUint32(p + 8, false);
  pv.a1 = dv.getUint32(p + 12, false);
  pv.a2 = dv.getUint32(p + 16, false);
  pv.a3 = dv.getUint32(p + 20, false);
  pv.b0 = dv.getUint32(p + 24, false);
  pv.b1 = dv.getUint32(p + 28, false);
  pv.b2 = dv.getUint32(p + 32, false);
  pv.b3 = dv.getUint32(p + 36, false);
  // A zero payload length is a jumbogram (RFC 2675): trust the capture length.
  const end = plen === 0 ? p + len : Math.min(p + len, p + 40 + plen);
  let q = p + 40;
  for (let hops = 0; hops < 8; hops++) {
    if (next === 0 || next === 43 || next === 60) {
      if (q + 8 > end) return Decoded.Malformed;
      next = buf[q]!;
      q += (buf[q + 1]! + 1) * 8;
      continue;
    }
    if (next === 44) {
      // IPv6 fragments are rare in practice; only a first fragment that carries whole headers is followed.
      if (q + 8 > end) return Decoded.Malformed;
      const fo = dv.getUint16(q + 2, false) >> 3;
      if (fo !== 0) return Decoded.Skipped;
      next = buf[q]!;
      q += 8;
      continue;
    }
    break;
  }
  if (q > end) return Decoded.Malformed;
  return decodeTransport(pv, buf, dv, next, q, end - q);
}

function decodeTransport(
  pv: PacketView,
  buf: Uint8Array,
  dv: DataView,
  proto: number,
  p: number,
  len: number,
): Decoded {
  pv.proto = proto;
  if (proto === 6) {
    if (len < 20) return Decoded.Malformed;
    const doff = (buf[p + 12]! >> 4) * 4;
    if (doff < 20 || doff > len) return Decoded.Malformed;
    pv.srcPort = dv.getUint16(p, false);
    pv.dstPort = dv.getUint16(p + 2, false);
    pv.seq = dv.getUint32(p + 4, false);
    pv.tcpFlags = buf[p + 13]!;
    pv.payloadOff = p + doff;
    pv.payloadLen = len - doff;
    return Decoded.Ok;
  }
  if (proto === 17) {
    if (len < 8) return Decoded.Malformed;
    pv.srcPort = dv.getUint16(p, false);
    pv.dstPort = dv.getUint16(p + 2, false);
    const ulen = dv.getUint16(p + 4, false);
    pv.tcpFlags = 0;
    pv.seq = 0;
    pv.payloadOff = p + 8;
    pv.payloadLen = ulen >= 8 && ulen <= len ? ulen - 8 : len - 8;
    return Decoded.Ok;
  }
  pv.srcPort = pv.dstPort = 0;
  pv.payloadOff = p;
  pv.payloadLen = len;
  return Decoded.Skipped;
}

export function ipv4String(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** RFC 5952 text form (longest zero run compressed, lower case). */
export function ipv6String(w0: number, w1: number, w2: number, w3: number): string {
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

export function srcIpString(pv: PacketView): string {
  return pv.ipVersion === 4 ? ipv4String(pv.a0) : ipv6String(pv.a0, pv.a1, pv.a2, pv.a3);
}

export function dstIpString(pv: PacketView): string {
  return pv.ipVersion === 4 ? ipv4String(pv.b0) : ipv6String(pv.b0, pv.b1, pv.b2, pv.b3);
}
