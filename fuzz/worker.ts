import { parentPort, workerData } from 'node:worker_threads';
import { BlockCoverage } from './coverage.ts';
import { type Failure, signatureOf, stackOf } from './failure.ts';
import { mutate, Rng } from './mutate.ts';

/**
 * The worker side of the fuzzer, in a thread so that the main thread can
 * watch it: before each run the input is copied into shared memory and the
 * run counter bumped, so a hang (or an out-of-memory end of the worker) is
 * caught by the parent with the input that caused it.
 *
 * Mode `fuzz` is the fuzzing loop of one target; mode `replay` runs inputs
 * the parent sends, one at a time, for the minimiser.
 */
export interface FuzzJob {
  mode: 'fuzz';
  target: string;
  /** Folders of seed inputs. */
  seedDirs: string[];
  seconds: number;
  /** Stop after this many mutated inputs (0: only the clock stops the run). */
  runs: number;
  seed: number;
  maxLen: number;
  /** URL prefixes of the scripts whose blocks count; empty: no coverage (outcome feedback only). */
  coverInclude: string[];
  /** Inputs run between two coverage takes; 0 adapts it to the cost of a take. */
  batch: number;
  /** Int32 [runs, inputLength] followed by the input bytes. */
  shared: SharedArrayBuffer;
}
export interface ReplayJob {
  mode: 'replay';
  target: string;
}
export type WorkerInput = FuzzJob | ReplayJob;

export interface FuzzStats {
  runs: number;
  corpus: number;
  /** Distinct outcomes the target reported. */
  features: number;
  /** Distinct blocks under the coverage scope, after the seeds and at the end. */
  seedBlocks: number;
  blocks: number;
  /** Inputs kept for a new block / for a new outcome. */
  keptForBlocks: number;
  keptForOutcomes: number;
  takes: number;
  /** Time spent taking coverage and re-running batches to find which input brought a new block. */
  coverageMs: number;
}
export type WorkerMessage =
  | { kind: 'crash'; input: Uint8Array; failure: Failure; runs: number }
  | { kind: 'done'; stats: FuzzStats };
export type ReplayAnswer = { kind: 'ready' } | { kind: 'ok' } | { kind: 'crash'; failure: Failure };

async function replay(j: ReplayJob): Promise<void> {
  const { loadTarget } = await import('./load-target.ts');
  const { isExpected } = await import('./expected.ts');
  const target = await loadTarget(j.target);
  parentPort!.on('message', async (input: Uint8Array | null) => {
    // null: the parent is done; ending here runs the exit handlers, unlike terminate().
    if (input === null) process.exit(0);
    let answer: ReplayAnswer = { kind: 'ok' };
    try {
      await target(input);
    } catch (e) {
      if (!isExpected(e))
        answer = { kind: 'crash', failure: { kind: 'crash', signature: signatureOf(e), stack: stackOf(e) } };
    }
    parentPort!.postMessage(answer satisfies ReplayAnswer);
  });
  parentPort!.postMessage({ kind: 'ready' } satisfies ReplayAnswer);
}

/** Distinct block ids kept; past this the fuzzer stops learning new blocks rather than grow without bound. */
const MAX_BLOCKS = 1 << 20;
const MAX_CORPUS = 4000;
/** A batch runs about RATIO times as long as one take costs, so takes use about 1/(1+RATIO) of the time. */
const RATIO = 4;
const MAX_BATCH = 4096;

async function fuzz(j: FuzzJob): Promise<void> {
  // Before anything under test loads: functions compiled earlier carry no block counters.
  const cov = j.coverInclude.length > 0 ? new BlockCoverage(j.coverInclude) : undefined;
  const { loadTarget } = await import('./load-target.ts');
  const { isExpected } = await import('./expected.ts');
  const { readInputs } = await import('./corpus.ts');
  const target = await loadTarget(j.target);
  const header = new Int32Array(j.shared, 0, 2);
  const bytes = new Uint8Array(j.shared, 8);
  const rng = new Rng(j.seed);
  const outcomes = new Set<string>();
  const blocks = new Set<number>();
  const corpus: Uint8Array[] = readInputs(j.seedDirs, true).map((s) => s.data);
  if (corpus.length === 0) corpus.push(new Uint8Array(0));
  const stats: FuzzStats = {
    runs: 0,
    corpus: 0,
    features: 0,
    seedBlocks: 0,
    blocks: 0,
    keptForBlocks: 0,
    keptForOutcomes: 0,
    takes: 0,
    coverageMs: 0,
  };

  /** Runs one input; returns true when it produced an outcome never seen. */
  async function execute(input: Uint8Array): Promise<boolean> {
    const len = Math.min(input.length, bytes.length);
    bytes.set(input.subarray(0, len));
    Atomics.store(header, 1, len);
    Atomics.add(header, 0, 1);
    let features: readonly string[];
    try {
      features = await target(input);
    } catch (e) {
      if (!isExpected(e)) {
        const failure: Failure = { kind: 'crash', signature: signatureOf(e), stack: stackOf(e) };
        parentPort!.postMessage({ kind: 'crash', input, failure, runs: stats.runs } satisfies WorkerMessage);
        process.exit(1);
      }
      features = [];
    }
    let fresh = false;
    for (const f of features) {
      if (!outcomes.has(f)) {
        outcomes.add(f);
        fresh = true;
      }
    }
    return fresh;
  }

  const hasNewBlock = (ids: readonly number[]): boolean => ids.some((id) => !blocks.has(id));
  const learn = (ids: readonly number[]): void => {
    for (const id of ids) if (blocks.size < MAX_BLOCKS) blocks.add(id);
  };
  const take = (): number[] => {
    const t0 = performance.now();
    const ids = cov!.take();
    for (const r of cov!.retroCovered) {
      // Newly visible, covered by the seeds already: counted with the seeds' blocks.
      if (r.take <= seedTakes && !blocks.has(r.id)) stats.seedBlocks++;
      if (blocks.size < MAX_BLOCKS) blocks.add(r.id);
    }
    stats.takes++;
    takeMs = takeMs === 0 ? performance.now() - t0 : 0.9 * takeMs + 0.1 * (performance.now() - t0);
    return ids;
  };
  const kept = new WeakSet<Uint8Array>();
  const keep = (input: Uint8Array): boolean => {
    if (corpus.length >= MAX_CORPUS) return false;
    corpus.push(input);
    return true;
  };

  /**
   * A batch showed a block never seen: which of its inputs brought it? Each
   * half is re-run and its coverage taken, and only halves with a new block
   * are split further, so one new block costs about two batches of runs and
   * 2·log2(batch) takes, not a take per input.
   */
  async function attribute(list: Uint8Array[], ids: number[]): Promise<void> {
    if (!hasNewBlock(ids)) return;
    if (list.length === 1) {
      if (!kept.has(list[0]!) && keep(list[0]!)) stats.keptForBlocks++;
      learn(ids);
      return;
    }
    const mid = list.length >> 1;
    for (const half of [list.slice(0, mid), list.slice(mid)]) {
      for (const input of half) await execute(input);
      await attribute(half, take());
    }
  }

  let takeMs = 0;
  /** Takes of the seed phase: blocks they covered count as the seeds' own, even when seen later. */
  let seedTakes = Number.POSITIVE_INFINITY;
  let runMs = 0;
  let batch: Uint8Array[] = [];
  let batchStart = 0;
  let batchSize = j.batch > 0 ? j.batch : 1;
  async function flush(): Promise<void> {
    if (batch.length === 0) return;
    const t0 = performance.now();
    const perRun = (t0 - batchStart) / batch.length;
    runMs = runMs === 0 ? perRun : 0.9 * runMs + 0.1 * perRun;
    const ids = take();
    await attribute(batch, ids);
    // Blocks a re-run did not reach again (a cache filled once, a lazy initialisation) are not new next time either.
    learn(ids);
    batch = [];
    stats.coverageMs += performance.now() - t0;
    if (j.batch === 0) batchSize = Math.max(1, Math.min(MAX_BATCH, Math.round((RATIO * takeMs) / runMs)));
    batchStart = performance.now();
  }

  // Each seed alone, so that every one of its blocks is known before mutating.
  if (cov) cov.reset();
  for (const seed of [...corpus]) {
    const t0 = performance.now();
    await execute(seed);
    if (cov) {
      runMs = runMs === 0 ? performance.now() - t0 : 0.5 * runMs + 0.5 * (performance.now() - t0);
      learn(take());
    }
  }
  stats.seedBlocks = blocks.size;
  seedTakes = cov?.takes ?? 0;
  if (cov && j.batch === 0 && runMs > 0)
    batchSize = Math.max(1, Math.min(MAX_BATCH, Math.round((RATIO * takeMs) / runMs)));

  const deadline = Date.now() + j.seconds * 1000;
  batchStart = performance.now();
  outer: while (Date.now() < deadline) {
    // Checking the clock every 64 runs keeps its cost out of fast targets.
    for (let i = 0; i < 64; i++) {
      if (j.runs > 0 && stats.runs >= j.runs) break outer;
      const base = corpus[rng.below(corpus.length)]!;
      const other = corpus[rng.below(corpus.length)]!;
      const input = mutate(base, other, rng, j.maxLen);
      stats.runs++;
      if ((await execute(input)) && keep(input)) {
        stats.keptForOutcomes++;
        // Its blocks are learnt with the batch it belongs to; it must not be kept a second time for them.
        kept.add(input);
      }
      if (cov) {
        batch.push(input);
        if (batch.length >= batchSize) await flush();
      }
    }
  }
  if (cov) await flush();
  stats.corpus = corpus.length;
  stats.features = outcomes.size;
  stats.blocks = blocks.size;
  parentPort!.postMessage({ kind: 'done', stats } satisfies WorkerMessage);
  // Ends the thread with its exit handlers run (the scratch folder of path-reading targets); terminate() would skip them.
  process.exit(0);
}

// Last in the file: the constants above must be initialised before the loop uses them.
const job = workerData as WorkerInput;
if (job.mode === 'replay') await replay(job);
else await fuzz(job);
