import type { ParseIssue } from '../../core/errors.ts';

/**
 * Streaming reader for pcap (both byte orders, micro- and nanosecond) and
 * pcapng (SHB, IDB, EPB, SPB and the obsolete PB; several interfaces and
 * sections, both byte orders). Chunks are pushed as they arrive (file or
 * pipe); each complete packet is handed to `onPacket` as a view into the
 * chunk, so the hot path allocates nothing per packet.
 */
export interface PacketSink {
  /**
   * `buf[off .. off+caplen)` is the packet; the view is only valid during the
   * call. `tsMs` is milliseconds since the epoch (fractional).
   */
  onPacket(buf: Uint8Array, dv: DataView, off: number, caplen: number, linktype: number, tsMs: number): void;
  onIssue(issue: ParseIssue): void;
}

export type CaptureFormat = 'pcap' | 'pcapng';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
/** Larger than any real snap length (262144) with room; anything above is corruption. */
const MAX_RECORD = 1 << 24;
/** Used when the header's snap length is 0 or absurd: the largest snap length tools write. */
const DEFAULT_SNAPLEN = 262144;
/** A resynchronised record's timestamp must lie within a day of the last good one. */
const RESYNC_WINDOW_SEC = 86400;
/** pcapng block types we accept as a place to start again (pcapng draft, section 11.1). */
const PCAPNG_TYPES = new Set([PCAPNG_SHB, 1, 2, 3, 4, 5, 6, 9, 10, 0xbad, 0x40000bad]);

export function captureFormatOf(head: Uint8Array): CaptureFormat | undefined {
  if (head.length < 4) return undefined;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const be = dv.getUint32(0, false);
  const le = dv.getUint32(0, true);
  if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS)
    return 'pcap';
  if (be === PCAPNG_SHB) return 'pcapng';
  return undefined;
}

interface Iface {
  linktype: number;
  /** Timestamp units per millisecond. */
  unitsPerMs: number;
}

export class CaptureReader {
  private readonly sink: PacketSink;
  private readonly name: string;
  private pending: Uint8Array | undefined;
  /** Absolute file offset of the first byte of the next chunk to parse. */
  private base = 0;
  private format: CaptureFormat | undefined;
  private le = true;
  private nsec = false;
  private linktype = 1;
  private ifaces: Iface[] = [];
  private dead = false;
  /** Largest caplen a record of this capture may have (from the snap length). */
  private maxCaplen = DEFAULT_SNAPLEN;
  /** Seconds of the last good pcap record, to judge resynchronisation candidates; -1 before any. */
  private lastSec = -1;
  /**
   * Set after damage: the reader scans for the next plausible record or
   * block instead of trusting lengths, and stays in this state across chunks.
   */
  private resyncing = false;
  packets = 0;
  issues = 0;

  constructor(sink: PacketSink, name: string) {
    this.sink = sink;
    this.name = name;
  }

  /** True once the input is unusable (bad magic, broken framing): further chunks are ignored. */
  get stopped(): boolean {
    return this.dead;
  }

  push(chunk: Uint8Array): void {
    if (this.dead || chunk.length === 0) return;
    let buf = chunk;
    if (this.pending) {
      const joined = new Uint8Array(this.pending.length + chunk.length);
      joined.set(this.pending, 0);
      joined.set(chunk, this.pending.length);
      buf = joined;
      this.pending = undefined;
    }
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let pos = 0;
    if (this.format === undefined) {
      if (buf.length < 28) {
        this.pending = buf.slice();
        return;
      }
      const f = captureFormatOf(buf);
      if (!f) {
        this.fail('PCAP_BAD_MAGIC', 'not a pcap or pcapng capture', 0);
        return;
      }
      this.format = f;
      if (f === 'pcap') {
        const m = dv.getUint32(0, true);
        this.le = m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS;
        this.nsec = dv.getUint32(0, this.le) === PCAP_MAGIC_NS;
        // The upper bits of the link-type field carry FCS information (pcap-savefile(5)).
        this.linktype = dv.getUint32(20, this.le) & 0x0fffffff;
        // Some writers put 0 or garbage here; never accept less than 65535.
        const snap = dv.getUint32(16, this.le);
        this.maxCaplen = snap > 0 && snap <= MAX_RECORD ? Math.max(snap, 65535) : DEFAULT_SNAPLEN;
        pos = 24;
      }
    }
    pos = this.parse(buf, dv, pos, false);
    if (!this.dead && pos < buf.length) this.pending = buf.slice(pos);
    this.base += pos;
  }

  /** Reads records from `pos`; returns where the unread rest starts. */
  private parse(buf: Uint8Array, dv: DataView, pos: number, final: boolean): number {
    const pcap = this.format === 'pcap';
    for (;;) {
      if (this.resyncing) {
        const at = pcap ? this.pcapResync(dv, pos, final) : this.pcapngResync(dv, pos, final);
        if (at < 0) return -at - 1;
        this.resyncing = false;
        pos = at;
      }
      pos = pcap ? this.pcapRecords(buf, dv, pos) : this.pcapngBlocks(buf, dv, pos);
      if (!this.resyncing) return pos;
    }
  }

  /**
   * Damage at `pos`: report it and look for the next plausible record
   * instead of giving up on the rest of the capture.
   */
  private damaged(code: string, message: string, pos: number): void {
    this.issue(code, `${message}; skipping to the next plausible record`, this.base + pos);
    this.resyncing = true;
  }

  /** Whether a pcap record header at `p` (16 bytes available) could be real. */
  private plausiblePcap(dv: DataView, p: number, nearSec: number): boolean {
    const le = this.le;
    const sec = dv.getUint32(p, le);
    const frac = dv.getUint32(p + 4, le);
    const incl = dv.getUint32(p + 8, le);
    const orig = dv.getUint32(p + 12, le);
    if (frac >= (this.nsec ? 1e9 : 1e6)) return false;
    if (incl > this.maxCaplen || incl > orig || orig > MAX_RECORD) return false;
    return nearSec < 0 || Math.abs(sec - nearSec) <= RESYNC_WINDOW_SEC;
  }

  /**
   * Finds the next record header from `pos + 1` on that is plausible and
   * is followed by another plausible header (or by the end of the input).
   * Returns its position, or -(where to keep the input from) - 1 when more
   * input is needed.
   */
  private pcapResync(dv: DataView, pos: number, final: boolean): number {
    const n = dv.byteLength;
    for (let p = pos + 1; p + 16 <= n; p++) {
      if (!this.plausiblePcap(dv, p, this.lastSec)) continue;
      const next = p + 16 + dv.getUint32(p + 8, this.le);
      if (next + 16 <= n) {
        if (this.plausiblePcap(dv, next, dv.getUint32(p, this.le))) return p;
        continue;
      }
      if (final && next === n) return p;
      if (final) continue;
      // Cannot confirm yet: keep from here and try again with more input.
      return -(p - 1) - 1;
    }
    if (final) return -n - 1;
    return -Math.max(pos, n - 16) - 1;
  }

  /** Whether a pcapng block at `p` (12 bytes available) could be real; its length, or 0. */
  private plausibleBlock(dv: DataView, p: number): number {
    let le = this.le;
    const type = dv.getUint32(p, le);
    if (dv.getUint32(p, true) === PCAPNG_SHB) {
      const bom = dv.getUint32(p + 8, true);
      if (bom === PCAPNG_BOM) le = true;
      else if (dv.getUint32(p + 8, false) === PCAPNG_BOM) le = false;
      else return 0;
    } else if (!PCAPNG_TYPES.has(type)) return 0;
    const len = dv.getUint32(p + 4, le);
    if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) return 0;
    return len;
  }

  /** As pcapResync, for pcapng: a known block type whose trailing length matches. */
  private pcapngResync(dv: DataView, pos: number, final: boolean): number {
    const n = dv.byteLength;
    // Blocks are 32-bit aligned from the start of the file, damaged or not.
    for (let p = pos + 4; p + 12 <= n; p += 4) {
      const len = this.plausibleBlock(dv, p);
      if (len === 0) continue;
      if (p + len > n) {
        if (final) continue;
        return -(p - 4) - 1;
      }
      const le = dv.getUint32(p, true) === PCAPNG_SHB ? dv.getUint32(p + 8, true) === PCAPNG_BOM : this.le;
      if (dv.getUint32(p + len - 4, le) === len) return p;
    }
    if (final) return -n - 1;
    // Keep the unscanned aligned tail.
    let keep = pos;
    while (keep + 4 + 12 <= n) keep += 4;
    return -keep - 1;
  }

  /** Call at end of input: a partial record left over is a truncated capture. */
  end(): void {
    if (this.dead) return;
    if (this.format === undefined) {
      this.fail('PCAP_BAD_MAGIC', 'not a pcap or pcapng capture (too short)', 0);
      return;
    }
    if (this.resyncing && this.pending && this.pending.length > 0) {
      // The last records may be confirmable only by the end of the input.
      const buf = this.pending;
      this.pending = undefined;
      const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      const pos = this.parse(buf, dv, 0, true);
      if (pos < buf.length && !this.resyncing) this.pending = buf.slice(pos);
      this.base += pos;
    }
    if (this.resyncing) {
      this.pending = undefined;
      return;
    }
    if (this.pending && this.pending.length > 0) {
      this.issue(
        'PCAP_TRUNCATED',
        `capture ends inside a record (${this.pending.length} bytes left)`,
        this.base,
      );
      this.pending = undefined;
    }
  }

  private pcapRecords(buf: Uint8Array, dv: DataView, pos: number): number {
    const le = this.le;
    const div = this.nsec ? 1e6 : 1e3;
    const sink = this.sink;
    const lt = this.linktype;
    const n = buf.length;
    const max = this.maxCaplen;
    let sec = -1;
    while (pos + 16 <= n) {
      const incl = dv.getUint32(pos + 8, le);
      if (incl > max) {
        if (sec >= 0) this.lastSec = sec;
        this.damaged('PCAP_BAD_RECORD_LENGTH', `record length ${incl} is impossible`, pos);
        return pos;
      }
      if (pos + 16 + incl > n) break;
      sec = dv.getUint32(pos, le);
      const tsMs = sec * 1000 + dv.getUint32(pos + 4, le) / div;
      this.packets++;
      sink.onPacket(buf, dv, pos + 16, incl, lt, tsMs);
      pos += 16 + incl;
    }
    if (sec >= 0) this.lastSec = sec;
    return pos;
  }

  private pcapngBlocks(buf: Uint8Array, dv: DataView, pos: number): number {
    const n = buf.length;
    while (pos + 12 <= n) {
      let type = dv.getUint32(pos, this.le);
      if (dv.getUint32(pos, true) === PCAPNG_SHB) {
        // A new section may switch byte order: read it from the byte-order magic.
        if (pos + 12 > n) break;
        const bom = dv.getUint32(pos + 8, true);
        if (bom === PCAPNG_BOM) this.le = true;
        else if (dv.getUint32(pos + 8, false) === PCAPNG_BOM) this.le = false;
        else {
          this.damaged('PCAPNG_BAD_SECTION', 'section header has no valid byte-order magic', pos);
          return pos;
        }
        type = PCAPNG_SHB;
      }
      const len = dv.getUint32(pos + 4, this.le);
      if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) {
        this.damaged('PCAPNG_BAD_BLOCK_LENGTH', `block length ${len} is impossible`, pos);
        return pos;
      }
      if (pos + len > n) break;
      if (dv.getUint32(pos + len - 4, this.le) !== len) {
        this.damaged('PCAPNG_BAD_BLOCK_LENGTH', 'block trailer length does not match its header', pos);
        return pos;
      }
      switch (type) {
        case PCAPNG_SHB:
          this.ifaces = [];
          break;
        case 1:
          this.interfaceBlock(buf, dv, pos, len);
          break;
        case 6:
          this.packetBlock(buf, dv, pos, len, dv.getUint32(pos + 8, this.le), pos + 12, 28);
          break;
        case 2:
          this.packetBlock(buf, dv, pos, len, dv.getUint16(pos + 8, this.le), pos + 12, 28);
          break;
        case 3:
          this.simpleBlock(buf, dv, pos, len);
          break;
        default:
          // Name resolution, statistics, custom and unknown blocks carry no packets.
          break;
      }
      pos += len;
    }
    return pos;
  }

  private interfaceBlock(buf: Uint8Array, dv: DataView, pos: number, len: number): void {
    if (len < 20) {
      this.issue('PCAPNG_BAD_BLOCK', 'interface block too short', this.base + pos);
      this.ifaces.push({ linktype: -1, unitsPerMs: 1e3 });
      return;
    }
    const linktype = dv.getUint16(pos + 8, this.le);
    let unitsPerMs = 1e3;
    let o = pos + 16;
    const end = pos + len - 4;
    while (o + 4 <= end) {
      const code = dv.getUint16(o, this.le);
      const olen = dv.getUint16(o + 2, this.le);
      if (code === 0) break;
      if (o + 4 + olen > end) {
        this.issue('PCAPNG_BAD_OPTION', 'interface option runs past its block', this.base + o);
        break;
      }
      if (code === 9 && olen >= 1) {
        const r = buf[o + 4]!;
        const perSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** (r & 0x7f);
        unitsPerMs = perSec / 1000;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    this.ifaces.push({ linktype, unitsPerMs });
  }

  private packetBlock(
    buf: Uint8Array,
    dv: DataView,
    pos: number,
    len: number,
    ifaceId: number,
    tsOff: number,
    dataOff: number,
  ): void {
    if (len < dataOff + 4) {
      this.issue('PCAPNG_BAD_BLOCK', 'packet block too short', this.base + pos);
      return;
    }
    const iface = this.ifaces[ifaceId];
    if (!iface) {
      this.issue(
        'PCAPNG_NO_INTERFACE',
        `packet names interface ${ifaceId}, which was not described`,
        this.base + pos,
      );
      return;
    }
    const caplen = dv.getUint32(pos + 20, this.le);
    if (dataOff + caplen + 4 > len) {
      this.issue('PCAPNG_BAD_CAPLEN', `captured length ${caplen} exceeds its block`, this.base + pos);
      return;
    }
    const tsMs =
      (dv.getUint32(tsOff, this.le) * 4294967296 + dv.getUint32(tsOff + 4, this.le)) / iface.unitsPerMs;
    this.packets++;
    this.sink.onPacket(buf, dv, pos + dataOff, caplen, iface.linktype, tsMs);
  }

  private simpleBlock(buf: Uint8Array, dv: DataView, pos: number, len: number): void {
    const iface = this.ifaces[0];
    if (!iface || len < 16) {
      this.issue('PCAPNG_BAD_BLOCK', 'simple packet block without interface or too short', this.base + pos);
      return;
    }
    const orig = dv.getUint32(pos + 8, this.le);
    const caplen = Math.min(orig, len - 16);
    this.packets++;
    // Simple packet blocks have no timestamp.
    this.sink.onPacket(buf, dv, pos + 12, caplen, iface.linktype, 0);
  }

  private issue(code: string, message: string, offset: number): void {
    this.issues++;
    this.sink.onIssue({ code, message, location: `${this.name}:${offset}` });
  }

  private fail(code: string, message: string, offset: number): void {
    this.issue(code, `${message}; the rest of this capture is skipped`, offset);
    this.dead = true;
    this.pending = undefined;
  }
}
