/**
 * IPv4 fragment reassembly, bounded: at most `maxDatagrams` datagrams in
 * flight, each at most 65535 bytes, dropped after `timeoutMs` of capture
 * time (RFC 791 leaves the timer to the implementation; Linux uses 30 s).
 */
interface Pending {
  key: string;
  firstMs: number;
  /** Transport payload (everything after the IP header) as it fills in. */
  data: Uint8Array;
  /** Byte ranges received so far, as start,end pairs; `total` is known once the last fragment arrives. */
  total: number;
  ranges: number[];
  /** Copy of the first fragment's IP header (offset 0), rebuilt around the payload. */
  header: Uint8Array | undefined;
}

export class FragmentReassembler {
  private readonly table = new Map<string, Pending>();
  private readonly maxDatagrams: number;
  private readonly timeoutMs: number;
  dropped = 0;

  constructor(opts: { maxDatagrams?: number; timeoutMs?: number } = {}) {
    this.maxDatagrams = opts.maxDatagrams ?? 1024;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  get inFlight(): number {
    return this.table.size;
  }

  /**
   * Adds one fragment (`buf[off..off+len)` is the whole IPv4 packet, header
   * included). Returns the complete datagram when this fragment finishes it.
   */
  add(buf: Uint8Array, dv: DataView, off: number, len: number, tsMs: number): Uint8Array | undefined {
    const ihl = (buf[off]! & 0x0f) * 4;
    const flags = dv.getUint16(off + 6, false);
    const fragOff = (flags & 0x1fff) * 8;
    const more = (flags & 0x2000) !== 0;
    const payloadLen = len - ihl;
    if (payloadLen <= 0 || fragOff + payloadLen > 65535 - ihl) {
      this.dropped++;
      return undefined;
    }
    const key = `${dv.getUint32(off + 12, false)}:${dv.getUint32(off + 16, false)}:${buf[off + 9]}:${dv.getUint16(off + 4, false)}`;
    let p = this.table.get(key);
    if (p && tsMs - p.firstMs > this.timeoutMs) {
      this.table.delete(key);
      this.dropped++;
      p = undefined;
    }
    if (!p) {
      this.evict(tsMs);
      p = { key, firstMs: tsMs, data: new Uint8Array(0), total: -1, ranges: [], header: undefined };
      this.table.set(key, p);
    }
    const end = fragOff + payloadLen;
    if (end > p.data.length) {
      const grown = new Uint8Array(Math.max(end, Math.min(65535, p.data.length * 2)));
      grown.set(p.data, 0);
      p.data = grown;
    }
    // Overlapping fragments: the newest bytes win; coverage is tracked per range.
    p.data.set(buf.subarray(off + ihl, off + len), fragOff);
    p.ranges.push(fragOff, end);
    if (!more) p.total = end;
    if (fragOff === 0) p.header = buf.slice(off, off + ihl);
    if (p.total >= 0 && p.header && covered(p.ranges, p.total)) {
      this.table.delete(key);
      const h = p.header;
      const out = new Uint8Array(h.length + p.total);
      out.set(h, 0);
      out.set(p.data.subarray(0, p.total), h.length);
      const odv = new DataView(out.buffer);
      odv.setUint16(2, out.length, false);
      odv.setUint16(6, 0, false);
      return out;
    }
    return undefined;
  }

  private evict(tsMs: number): void {
    if (this.table.size < this.maxDatagrams) return;
    // Oldest first (Map keeps insertion order): expired ones, then as many as needed to make room.
    for (const [k, v] of this.table) {
      if (this.table.size < this.maxDatagrams && tsMs - v.firstMs <= this.timeoutMs) break;
      this.table.delete(k);
      this.dropped++;
    }
  }
}

function covered(ranges: readonly number[], total: number): boolean {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!]);
  pairs.sort((x, y) => x[0] - y[0]);
  let reach = 0;
  for (const [a, b] of pairs) {
    if (a > reach) return false;
    reach = Math.max(reach, b);
  }
  return reach >= total;
}
