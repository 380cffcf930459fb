import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describeFailure, type Failure, fileKind, sameFailure } from './failure.ts';
import { isTargetFile, targetLabel } from './load-target.ts';
import { minimiseInput } from './minimise.ts';
import { WORKER_HEAP_MB } from './replayer.ts';
import type { FuzzStats, WorkerInput, WorkerMessage } from './worker.ts';

export interface FuzzOptions {
  /** A name of `targets/index.ts` or the path of a module exporting `fuzz(data)`. */
  target: string;
  seedDirs: string[];
  seconds: number;
  /** Stop after this many mutated inputs as well (0 or absent: the clock alone). */
  runs?: number;
  seed: number;
  maxLen: number;
  timeoutMs: number;
  /** URL prefixes of the scripts whose block coverage guides the fuzzer; empty: outcome feedback only. */
  coverInclude: string[];
  /** Inputs between two coverage takes; 0 or absent adapts it to what a take costs. */
  batch?: number;
  /** Folder of findings (`<out>/<target>/`). */
  out: string;
  /** Time budget of the automatic minimisation of a finding (0: none). */
  minimiseSeconds: number;
  log?: (text: string) => void;
}

export interface FuzzResult {
  ok: boolean;
  elapsed: number;
  stats?: FuzzStats;
  failure?: Failure;
  /** Mutated inputs run before the failing one. */
  runsBeforeFailure?: number;
  file?: string;
  minimisedFile?: string;
  minimisedInput?: Uint8Array;
}

function save(out: string, target: string, kind: string, input: Uint8Array): string {
  const dir = join(out, targetLabel(target));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${kind}-${createHash('sha1').update(input).digest('hex')}`);
  writeFileSync(file, input);
  return file;
}

/** Where a finding goes to be replayed by `npm test` from then on. */
export function regressionHint(target: string, file: string): string {
  if (isTargetFile(target)) return '';
  return (
    `to keep it as a regression input: cp ${file} test/fixtures/fuzz/${target}/open-<what-it-is>, ` +
    'list it in OPEN_BUGS of test/fuzz-regressions.test.ts until the parser is fixed, ' +
    'then drop the open- prefix (fuzz/README.md, "Crashes")'
  );
}

/** Fuzzes one target in a watched worker; a finding is saved, minimised within its budget and described. */
export async function fuzzTarget(o: FuzzOptions): Promise<FuzzResult> {
  const log = o.log ?? ((t: string) => console.log(t));
  const label = targetLabel(o.target);
  const started = Date.now();
  const found = await runWorker(o);
  const elapsed = (Date.now() - started) / 1000;
  if (found.stats) {
    const s = found.stats;
    const cover =
      o.coverInclude.length > 0
        ? `blocks ${s.blocks} (seeds ${s.seedBlocks}), kept for blocks ${s.keptForBlocks}, ` +
          `coverage ${s.takes} takes ${Math.round((100 * s.coverageMs) / 1000 / elapsed)}% of the time, `
        : 'no coverage, ';
    log(
      `${label}: ok, ${s.runs} runs in ${elapsed.toFixed(1)} s (${Math.round(s.runs / elapsed)}/s), ` +
        `corpus ${s.corpus}, features ${s.features}, ${cover}seed ${o.seed}`,
    );
    return { ok: true, elapsed, stats: s };
  }
  const { failure, input } = found;
  const file = save(o.out, o.target, fileKind(failure!), input!);
  const what =
    failure!.kind === 'hang'
      ? `HANG: one input ran over ${o.timeoutMs} ms`
      : `CRASH: ${describeFailure(failure!)}`;
  const after = found.runs !== undefined ? ` after ${found.runs} runs` : '';
  log(`${label}: ${what}${after} (seed ${o.seed})`);
  if (failure!.kind !== 'hang') log(failure!.stack);
  log(`input (${input!.length} bytes) saved to ${file}`);
  const result: FuzzResult = { ok: false, elapsed, failure: failure!, file };
  if (found.runs !== undefined) result.runsBeforeFailure = found.runs;
  if (o.minimiseSeconds > 0) {
    const m = await minimiseInput(o.target, input!, { timeoutMs: o.timeoutMs, seconds: o.minimiseSeconds });
    if (m.failure === undefined) {
      log(
        `${label}: the input does not fail when replayed alone (the failure depends on earlier runs); not minimised`,
      );
    } else {
      const minFile = `${file}.min`;
      writeFileSync(minFile, m.input);
      const differs = !sameFailure(m.failure, failure!)
        ? ` (replayed alone it fails as: ${describeFailure(m.failure)})`
        : '';
      log(
        `${label}: minimised to ${m.input.length} bytes in ${m.tries} tries` +
          `${m.outOfTime ? ' (time budget reached, may shrink further with --minimise)' : ''}${differs}: ${minFile}`,
      );
      result.minimisedFile = minFile;
      result.minimisedInput = m.input;
    }
  }
  const hint = regressionHint(o.target, result.minimisedFile ?? file);
  if (hint) log(`${label}: ${hint}`);
  return result;
}

type WorkerEnd =
  | { stats: FuzzStats; failure?: undefined; input?: undefined; runs?: undefined }
  | { stats?: undefined; failure: Failure; input: Uint8Array; runs?: number };

function runWorker(o: FuzzOptions): Promise<WorkerEnd> {
  const shared = new SharedArrayBuffer(8 + o.maxLen);
  const header = new Int32Array(shared, 0, 2);
  const current = (): Uint8Array => new Uint8Array(shared, 8, Atomics.load(header, 1)).slice();
  const workerData: WorkerInput = {
    mode: 'fuzz',
    target: o.target,
    seedDirs: o.seedDirs,
    seconds: o.seconds,
    runs: o.runs ?? 0,
    seed: o.seed,
    maxLen: o.maxLen,
    coverInclude: o.coverInclude,
    batch: o.batch ?? 0,
    shared,
  };
  return new Promise((done) => {
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    let finished = false;
    const finish = (end: WorkerEnd): void => {
      if (finished) return;
      finished = true;
      clearInterval(watch);
      void worker.terminate();
      done(end);
    };
    let last = -1;
    let lastChange = Date.now();
    const watch = setInterval(() => {
      const runs = Atomics.load(header, 0);
      if (runs !== last) {
        last = runs;
        lastChange = Date.now();
      } else if (runs > 0 && stats === undefined && Date.now() - lastChange > o.timeoutMs) {
        finish({ failure: { kind: 'hang' }, input: current() });
      }
    }, 250);
    // After its report the worker ends itself, so that its exit handlers (scratch files) run; that end is awaited.
    let stats: FuzzStats | undefined;
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'crash') finish({ failure: m.failure, input: m.input, runs: m.runs });
      else stats = m.stats;
    });
    worker.on('error', (e: Error & { code?: string }) => {
      const failure: Failure = {
        kind: 'ended',
        signature: e.code ?? e.message.split('\n')[0]!,
        stack: e.stack ?? e.message,
      };
      finish({ failure, input: current() });
    });
    worker.on('exit', (code) => {
      if (stats !== undefined) finish({ stats });
      else if (!finished) {
        const failure: Failure = {
          kind: 'ended',
          signature: `exit ${code}`,
          stack: `worker exited with ${code} without a report`,
        };
        finish({ failure, input: current() });
      }
    });
  });
}
