import { Session } from 'node:inspector';

/**
 * Block coverage from V8 itself, through the inspector protocol of the
 * current thread: no native addon, no instrumenting loader.
 *
 * `startPreciseCoverage({ callCount: false, detailed: true })` is V8's
 * "block binary" mode: every basic block gets a counter that only records
 * whether it ran, and `takePreciseCoverage` returns the counters and resets
 * them, so each take covers what ran since the previous one. Functions that
 * were compiled before coverage started carry no counters, so the session
 * must start before the code under test is imported.
 */

/** The subset of Profiler.takePreciseCoverage's result this file reads. */
interface CoverageRange {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface FunctionCoverage {
  ranges: CoverageRange[];
}
interface ScriptCoverage {
  url: string;
  functions: FunctionCoverage[];
}

/**
 * V8 prunes its report: a block that ran as often as the block around it is
 * merged into it, so in binary mode a covered block usually shows no range of
 * its own; only blocks that did not run are listed (count 0). A block is
 * therefore learnt the first time an input misses it, and from then on an
 * input covers it when no count-0 range of that input encloses it.
 */
export class BlockCoverage {
  private readonly session = new Session();
  private readonly urlHashes = new Map<string, number>();
  /** Per function (key: url hash and function start): its known blocks and the sets of missed blocks seen. */
  private readonly functions = new Map<
    string,
    { known: number[]; missedSets: { missed: number[]; take: number }[]; signatures: Set<string> }
  >();
  /** Takes so far (the reset included). */
  takes = 0;
  /**
   * Blocks learnt in the last take that an earlier take had already covered
   * (a block every input ran until now): not new coverage, only newly visible.
   * `take` is the number of the earliest take that covered it.
   */
  retroCovered: { id: number; take: number }[] = [];

  /** `include`: URL prefixes (e.g. `file:///…/src/`) of the scripts whose blocks count. */
  constructor(private readonly include: readonly string[]) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: false, detailed: true });
  }

  /** A session connected to its own thread answers synchronously, which keeps the fuzzing loop simple. */
  private post(method: string, params: object = {}): unknown {
    let out: unknown;
    let failure: Error | null = null;
    let answered = false;
    this.session.post(method, params, (err, res) => {
      failure = err;
      out = res;
      answered = true;
    });
    if (!answered) throw new Error(`inspector ${method} did not answer synchronously`);
    if (failure) throw failure;
    return out;
  }

  /** Forgets what ran so far (counters reset), e.g. the loop's own start-up. */
  reset(): void {
    this.takes++;
    this.post('Profiler.takePreciseCoverage');
  }

  /** Ids of the blocks under `include` that ran since the previous take (or reset). */
  take(): number[] {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const ids: number[] = [];
    this.takes++;
    this.retroCovered = [];
    for (const script of result) {
      if (!this.include.some((p) => script.url.startsWith(p))) continue;
      const h = this.urlHash(script.url);
      for (const fn of script.functions) this.blocksOf(h, fn, ids);
    }
    return ids;
  }

  private blocksOf(h: number, fn: FunctionCoverage, ids: number[]): void {
    const ranges = fn.ranges;
    const whole = ranges[0];
    if (!whole) return;
    const zeros: CoverageRange[] = [];
    if (whole.count > 0) ids.push(blockId(h, whole.startOffset, whole.endOffset));
    for (let i = 1; i < ranges.length; i++) {
      const r = ranges[i]!;
      // A nested range that ran while its function's own counter says 0 (a resumed generator).
      if (r.count > 0) ids.push(blockId(h, r.startOffset, r.endOffset));
      else zeros.push(r);
    }
    if (whole.count === 0) return;
    const key = `${h}:${whole.startOffset}`;
    let f = this.functions.get(key);
    if (f === undefined) {
      f = { known: [], missedSets: [], signatures: new Set() };
      this.functions.set(key, f);
    }
    const known = f.known;
    for (const z of zeros) {
      let have = false;
      for (let k = 0; k < known.length; k += 2) {
        if (known[k] === z.startOffset && known[k + 1] === z.endOffset) {
          have = true;
          break;
        }
      }
      if (have) continue;
      known.push(z.startOffset, z.endOffset);
      // Covered before if some earlier take of this function did not miss it.
      const earlier = f.missedSets.find((m) => !encloses(m.missed, z.startOffset, z.endOffset));
      if (earlier) this.retroCovered.push({ id: blockId(h, z.startOffset, z.endOffset), take: earlier.take });
    }
    const missed = zeros.flatMap((z) => [z.startOffset, z.endOffset]);
    const signature = missed.join(',');
    if (f.missedSets.length < MAX_MISSED_SETS && !f.signatures.has(signature)) {
      f.signatures.add(signature);
      f.missedSets.push({ missed, take: this.takes });
    }
    for (let k = 0; k < known.length; k += 2) {
      const s = known[k]!;
      const e = known[k + 1]!;
      if (!encloses(missed, s, e)) ids.push(blockId(h, s, e));
    }
  }

  private urlHash(url: string): number {
    let h = this.urlHashes.get(url);
    if (h === undefined) {
      h = 0x811c9dc5;
      for (let i = 0; i < url.length; i++) h = Math.imul(h ^ url.charCodeAt(i), 0x01000193);
      h >>>= 0;
      this.urlHashes.set(url, h);
    }
    return h;
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }
}

/** Distinct sets of missed blocks remembered per function; past it, a newly visible block may pass for new once. */
const MAX_MISSED_SETS = 256;

/** Whether one of the start/end pairs of `ranges` encloses [start, end). */
function encloses(ranges: readonly number[], start: number, end: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (ranges[i]! <= start && end <= ranges[i + 1]!) return true;
  return false;
}

/** A 32-bit id of one block: its script and its offsets, mixed (murmur3 finaliser). */
function blockId(urlHash: number, start: number, end: number): number {
  let x = urlHash ^ Math.imul(start, 0x9e3779b1) ^ Math.imul(end, 0x85ebca77);
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}
