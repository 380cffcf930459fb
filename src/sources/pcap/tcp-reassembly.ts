import type { PacketView } from './decode.ts';

/**
 * Flow table and per-direction TCP stream reassembly, bounded in memory.
 *
 * Flows are found through a numeric hash of the address/port tuple (no key
 * string per packet) with a collision chain. Only directions that a consumer
 * asks to follow keep bytes, each up to `maxUnconsumed` not yet consumed and
 * `maxInspected` in total, and all of them together up to `maxBytes`; past a
 * limit the direction stops being followed and the drop is counted.
 */
export class StreamDir {
  /** 0 undecided, 1 following, 2 no longer followed. */
  state = 0;
  /** Next expected sequence number (as a signed 32-bit value), once `synced`. */
  nextSeq = 0;
  synced = false;
  data: Uint8Array = EMPTY;
  len = 0;
  inspected = 0;
  /** Out-of-order segments waiting for the gap before them to fill. */
  ooo: { seq: number; bytes: Uint8Array }[] | undefined;
}

const EMPTY = new Uint8Array(0);

export class Flow<T> {
  nextInBucket: Flow<T> | undefined;
  readonly hash: number;
  readonly ver: number;
  /** Initiator (client) address words and port, then responder (server). */
  readonly a0: number;
  readonly a1: number;
  readonly a2: number;
  readonly a3: number;
  readonly b0: number;
  readonly b1: number;
  readonly b2: number;
  readonly b3: number;
  readonly ap: number;
  readonly bp: number;
  readonly proto: number;
  readonly firstMs: number;
  readonly firstFrame: number;
  lastMs: number;
  closed = false;
  /** Seen from its SYN, so the initiator is known for sure. */
  synSeen = false;
  readonly toServer = new StreamDir();
  readonly toClient = new StreamDir();
  app: T | undefined;

  constructor(pv: PacketView, hash: number, tsMs: number, frame: number, fromServer: boolean) {
    this.hash = hash;
    this.ver = pv.ipVersion;
    this.proto = pv.proto;
    if (fromServer) {
      this.a0 = pv.b0;
      this.a1 = pv.b1;
      this.a2 = pv.b2;
      this.a3 = pv.b3;
      this.b0 = pv.a0;
      this.b1 = pv.a1;
      this.b2 = pv.a2;
      this.b3 = pv.a3;
      this.ap = pv.dstPort;
      this.bp = pv.srcPort;
    } else {
      this.a0 = pv.a0;
      this.a1 = pv.a1;
      this.a2 = pv.a2;
      this.a3 = pv.a3;
      this.b0 = pv.b0;
      this.b1 = pv.b1;
      this.b2 = pv.b2;
      this.b3 = pv.b3;
      this.ap = pv.srcPort;
      this.bp = pv.dstPort;
    }
    this.firstMs = tsMs;
    this.lastMs = tsMs;
    this.firstFrame = frame;
  }
}

function mix(h: number, v: number): number {
  return Math.imul(h ^ v, 0x9e3779b1) ^ (h >>> 15);
}

/** Same value for both directions of a flow; kept in small-integer range so Map keys never box. */
export function flowHash(pv: PacketView): number {
  let x = mix(mix(mix(mix(pv.a0, pv.a1), pv.a2), pv.a3), pv.srcPort);
  let y = mix(mix(mix(mix(pv.b0, pv.b1), pv.b2), pv.b3), pv.dstPort);
  x = mix(x, 0x5bd1e995);
  y = mix(y, 0x5bd1e995);
  return ((x + y) ^ pv.proto) & 0x3fffffff;
}

export interface ReassemblyLimits {
  maxFlows: number;
  idleMs: number;
  maxBytes: number;
  maxUnconsumed: number;
  maxInspected: number;
}

export const DEFAULT_LIMITS: ReassemblyLimits = {
  maxFlows: 200_000,
  idleMs: 300_000,
  maxBytes: 64 * 1024 * 1024,
  maxUnconsumed: 64 * 1024,
  maxInspected: 1024 * 1024,
};

export class FlowTable<T> {
  private readonly buckets = new Map<number, Flow<T>>();
  private count = 0;
  private held = 0;
  readonly limits: ReassemblyLimits;
  /** Set by `find`: whether the packet goes from the flow's server to its client. */
  fromServer = false;
  evicted = 0;
  streamDrops = 0;
  onEvict: ((f: Flow<T>) => void) | undefined;

  constructor(limits: Partial<ReassemblyLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  get size(): number {
    return this.count;
  }

  get bytesHeld(): number {
    return this.held;
  }

  find(pv: PacketView, hash: number): Flow<T> | undefined {
    for (let f = this.buckets.get(hash); f; f = f.nextInBucket) {
      if (f.proto !== pv.proto || f.ver !== pv.ipVersion) continue;
      if (
        f.ap === pv.srcPort &&
        f.bp === pv.dstPort &&
        f.a0 === pv.a0 &&
        f.b0 === pv.b0 &&
        f.a1 === pv.a1 &&
        f.a2 === pv.a2 &&
        f.a3 === pv.a3 &&
        f.b1 === pv.b1 &&
        f.b2 === pv.b2 &&
        f.b3 === pv.b3
      ) {
        this.fromServer = false;
        return f;
      }
      if (
        f.ap === pv.dstPort &&
        f.bp === pv.srcPort &&
        f.a0 === pv.b0 &&
        f.b0 === pv.a0 &&
        f.a1 === pv.b1 &&
        f.a2 === pv.b2 &&
        f.a3 === pv.b3 &&
        f.b1 === pv.a1 &&
        f.b2 === pv.a2 &&
        f.b3 === pv.a3
      ) {
        this.fromServer = true;
        return f;
      }
    }
    return undefined;
  }

  create(pv: PacketView, hash: number, tsMs: number, frame: number, fromServer: boolean): Flow<T> {
    if (this.count >= this.limits.maxFlows) this.sweep(tsMs, true);
    const f = new Flow<T>(pv, hash, tsMs, frame, fromServer);
    f.nextInBucket = this.buckets.get(hash);
    this.buckets.set(hash, f);
    this.count++;
    this.fromServer = fromServer;
    return f;
  }

  /** Drops idle and closed flows; under pressure (`force`) also the older half of the rest. */
  sweep(nowMs: number, force = false): void {
    let cutoff = nowMs - this.limits.idleMs;
    if (force) {
      const ages: number[] = [];
      for (const head of this.buckets.values())
        for (let f: Flow<T> | undefined = head; f; f = f.nextInBucket) ages.push(f.lastMs);
      ages.sort((x, y) => x - y);
      cutoff = Math.max(cutoff, ages[Math.floor(ages.length / 2)] ?? cutoff);
    }
    for (const [h, head] of this.buckets) {
      let keep: Flow<T> | undefined;
      let f: Flow<T> | undefined = head;
      while (f) {
        const next: Flow<T> | undefined = f.nextInBucket;
        if (f.closed || f.lastMs < cutoff || (force && f.lastMs <= cutoff)) {
          this.release(f.toServer);
          this.release(f.toClient);
          this.count--;
          this.evicted++;
          this.onEvict?.(f);
        } else {
          f.nextInBucket = keep;
          keep = f;
        }
        f = next;
      }
      if (keep) this.buckets.set(h, keep);
      else this.buckets.delete(h);
    }
  }

  /** Every live flow (for end-of-input processing). */
  *flows(): IterableIterator<Flow<T>> {
    for (const head of this.buckets.values())
      for (let f: Flow<T> | undefined = head; f; f = f.nextInBucket) yield f;
  }

  follow(d: StreamDir): void {
    if (d.state === 0) d.state = 1;
  }

  /** Stop following a direction and give its bytes back. */
  release(d: StreamDir): void {
    d.state = 2;
    this.held -= d.data.length;
    d.data = EMPTY;
    d.len = 0;
    d.ooo = undefined;
  }

  /**
   * Adds a segment's payload to a followed direction. Returns true when new
   * contiguous bytes are available in `d.data[0 .. d.len)`.
   */
  append(d: StreamDir, seq: number, buf: Uint8Array, off: number, len: number): boolean {
    if (d.state !== 1 || len === 0) return false;
    if (!d.synced) {
      d.nextSeq = seq | 0;
      d.synced = true;
    }
    const rel = (seq - d.nextSeq) | 0;
    if (rel > 0) {
      // A gap: hold a few segments for it to fill; give up on longer gaps (lost packets).
      d.ooo ??= [];
      if (d.ooo.length >= 16 || rel > this.limits.maxUnconsumed) {
        this.release(d);
        this.streamDrops++;
        return false;
      }
      d.ooo.push({ seq, bytes: buf.slice(off, off + len) });
      return false;
    }
    // Retransmission or overlap: only the part past what we already have is new.
    if (rel < 0) {
      if (len + rel <= 0) return false;
      off -= rel;
      len += rel;
    }
    if (!this.put(d, buf, off, len)) return false;
    while (d.ooo && d.ooo.length > 0 && d.state === 1) {
      const i = d.ooo.findIndex((s) => ((s.seq - d.nextSeq) | 0) <= 0);
      if (i < 0) break;
      const s = d.ooo.splice(i, 1)[0]!;
      const r = (s.seq - d.nextSeq) | 0;
      if (s.bytes.length + r > 0) this.put(d, s.bytes, -r, s.bytes.length + r);
    }
    return d.state === 1;
  }

  private put(d: StreamDir, buf: Uint8Array, off: number, len: number): boolean {
    const lim = this.limits;
    if (
      d.len + len > lim.maxUnconsumed ||
      d.inspected + len > lim.maxInspected ||
      this.held + len > lim.maxBytes
    ) {
      this.release(d);
      this.streamDrops++;
      return false;
    }
    if (d.len + len > d.data.length) {
      const cap = Math.min(lim.maxUnconsumed, Math.max(d.len + len, d.data.length * 2, 1024));
      const grown = new Uint8Array(cap);
      grown.set(d.data.subarray(0, d.len), 0);
      this.held += cap - d.data.length;
      d.data = grown;
    }
    d.data.set(buf.subarray(off, off + len), d.len);
    d.len += len;
    d.inspected += len;
    d.nextSeq = (d.nextSeq + len) | 0;
    return true;
  }

  /** The consumer has used the first `n` bytes; keep the rest. */
  consume(d: StreamDir, n: number): void {
    if (n <= 0) return;
    if (n >= d.len) {
      d.len = 0;
      return;
    }
    d.data.copyWithin(0, n, d.len);
    d.len -= n;
  }
}
