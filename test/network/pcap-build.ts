import { seededRandom } from '../../src/core/random.ts';

/** Builds small captures byte by byte for reader tests (formats per pcap-savefile(5) and the pcapng draft). */
export function ethIpv4Udp(
  src: number[],
  dst: number[],
  sport: number,
  dport: number,
  payload: Uint8Array,
): Uint8Array {
  const ip = 20;
  const udp = 8;
  const out = new Uint8Array(14 + ip + udp + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(12, 0x0800);
  const p = 14;
  out[p] = 0x45;
  dv.setUint16(p + 2, ip + udp + payload.length);
  out[p + 8] = 64;
  out[p + 9] = 17;
  out.set(src, p + 12);
  out.set(dst, p + 16);
  dv.setUint16(p + 20, sport);
  dv.setUint16(p + 22, dport);
  dv.setUint16(p + 24, udp + payload.length);
  out.set(payload, p + 28);
  return out;
}

export function pcapFile(
  packets: Uint8Array[],
  opts: { littleEndian?: boolean; nano?: boolean; linktype?: number } = {},
): Uint8Array {
  const le = opts.littleEndian ?? true;
  const size = 24 + packets.reduce((n, p) => n + 16 + p.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, 262144, le);
  dv.setUint32(20, opts.linktype ?? 1, le);
  let o = 24;
  packets.forEach((p, i) => {
    dv.setUint32(o, 1_700_000_000 + i, le);
    dv.setUint32(o + 4, opts.nano ? 500_000_000 : 500_000, le);
    dv.setUint32(o + 8, p.length, le);
    dv.setUint32(o + 12, p.length, le);
    out.set(p, o + 16);
    o += 16 + p.length;
  });
  return out;
}

function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const len = 12 + ((body.length + 3) & ~3);
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, len, le);
  out.set(body, 8);
  dv.setUint32(len - 4, len, le);
  return out;
}

/** One section; interfaces as [linktype, tsresol option byte or undefined]; packets as [iface, bytes] (iface -1: simple block). */
export function pcapngSection(
  ifaces: [number, number | undefined][],
  packets: [number, Uint8Array][],
  le = true,
): Uint8Array[] {
  const parts: Uint8Array[] = [];
  const shb = new Uint8Array(16);
  const sdv = new DataView(shb.buffer);
  sdv.setUint32(0, 0x1a2b3c4d, le);
  sdv.setUint16(4, 1, le);
  sdv.setBigInt64(8, -1n, le);
  parts.push(block(0x0a0d0d0a, shb, le));
  for (const [lt, res] of ifaces) {
    const opt =
      res === undefined ? new Uint8Array(0) : new Uint8Array([0, 0, 0, 0, res, 0, 0, 0, 0, 0, 0, 0]);
    const body = new Uint8Array(8 + opt.length);
    const dv = new DataView(body.buffer);
    dv.setUint16(0, lt, le);
    dv.setUint32(4, 262144, le);
    if (res !== undefined) {
      dv.setUint16(8, 9, le);
      dv.setUint16(10, 1, le);
      body[12] = res;
    }
    parts.push(block(1, body, le));
  }
  for (const [iface, bytes] of packets) {
    if (iface < 0) {
      const body = new Uint8Array(4 + bytes.length);
      new DataView(body.buffer).setUint32(0, bytes.length, le);
      body.set(bytes, 4);
      parts.push(block(3, body, le));
      continue;
    }
    const body = new Uint8Array(20 + bytes.length);
    const dv = new DataView(body.buffer);
    dv.setUint32(0, iface, le);
    dv.setUint32(4, 0x00060000, le);
    dv.setUint32(8, 0, le);
    dv.setUint32(12, bytes.length, le);
    dv.setUint32(16, bytes.length, le);
    body.set(bytes, 20);
    parts.push(block(6, body, le));
  }
  return parts;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A DNS query for `name` (type A), as the UDP payload. */
export function dnsQuery(name: string, id = 0x1234): Uint8Array {
  const labels = name.split('.');
  const qlen = labels.reduce((n, l) => n + 1 + l.length, 1);
  const out = new Uint8Array(12 + qlen + 4);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, id);
  dv.setUint16(2, 0x0100);
  dv.setUint16(4, 1);
  let o = 12;
  for (const l of labels) {
    out[o++] = l.length;
    for (const c of l) out[o++] = c.charCodeAt(0);
  }
  out[o++] = 0;
  dv.setUint16(o, 1);
  dv.setUint16(o + 2, 1);
  return out;
}

/** Deterministic PRNG for seeded fuzzing (the project's shared one). */
export const rng = seededRandom;

/** An Ethernet/IPv4/TCP packet with the given flags (0x02 SYN) and no payload. */
export function ethIpv4TcpSyn(src: number[], dst: number[], sport: number, dport: number): Uint8Array {
  const out = new Uint8Array(14 + 20 + 20);
  const dv = new DataView(out.buffer);
  dv.setUint16(12, 0x0800);
  const p = 14;
  out[p] = 0x45;
  dv.setUint16(p + 2, 40);
  out[p + 8] = 64;
  out[p + 9] = 6;
  out.set(src, p + 12);
  out.set(dst, p + 16);
  const t = p + 20;
  dv.setUint16(t, sport);
  dv.setUint16(t + 2, dport);
  dv.setUint32(t + 4, 1000);
  out[t + 12] = 5 << 4;
  out[t + 13] = 0x02;
  dv.setUint16(t + 14, 64240);
  return out;
}

/** The response to `dnsQuery(name, id)`: one A record per address, with `ttl` seconds. */
export function dnsAnswer(name: string, addresses: number[][], ttl = 60, id = 0x1234): Uint8Array {
  const q = dnsQuery(name, id);
  const out = new Uint8Array(q.length + addresses.length * 16);
  out.set(q);
  const dv = new DataView(out.buffer);
  dv.setUint16(2, 0x8180);
  dv.setUint16(6, addresses.length);
  let o = q.length;
  for (const a of addresses) {
    // A pointer to the question name at offset 12.
    dv.setUint16(o, 0xc00c);
    dv.setUint16(o + 2, 1);
    dv.setUint16(o + 4, 1);
    dv.setUint32(o + 6, ttl);
    dv.setUint16(o + 10, 4);
    out.set(a, o + 12);
    o += 16;
  }
  return out;
}

/** The NXDOMAIN response to `dnsQuery(name, id)`: the question back, no answer, rcode 3. */
export function dnsNxdomain(name: string, id = 0x1234): Uint8Array {
  const out = dnsQuery(name, id);
  new DataView(out.buffer).setUint16(2, 0x8183);
  return out;
}
