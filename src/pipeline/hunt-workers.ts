import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ParseIssue } from '../core/errors.ts';
import type { EngineStats, SigmaEngine } from '../detect/sigma/engine.ts';
import type { SigmaRule } from '../detect/sigma/rule.ts';
import type { WorkerInit, WorkerMessage, WorkerResult, WorkerTask } from './match-log-file.ts';
import { matchLogFile } from './match-log-file.ts';
import type { TimeWindow } from './time-window.ts';

/**
 * The worker module: in the bundle (`dist/`), its own entry built by
 * scripts/build.mjs beside the CLI; from the sources, a small bootstrap that
 * registers the TypeScript loader first.
 */
function workerPath(): string {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return fileURLToPath(new URL('./hunt-worker-from-source.mjs', here));
  // The bundle is split (scripts/build.mjs): this module sits in dist/chunks/, the entry in dist/.
  return fileURLToPath(
    new URL(/\/chunks\/[^/]*$/.test(here) ? '../hunt-worker.mjs' : './hunt-worker.mjs', here),
  );
}

const SLOTS_PER_WORKER = 8;

interface Pending {
  resolve: (r: WorkerResult) => void;
  reject: (e: Error) => void;
}

/**
 * A fixed pool of hunt workers, each with its own compiled Sigma engine,
 * plus the main thread as one more lane when it is given an engine (it would
 * otherwise mostly wait for results). Files are handed out one at a time to
 * whichever lane is free, workers first.
 */
export class HuntWorkers {
  readonly #workers: ChildProcess[] = [];
  readonly #idle: ChildProcess[] = [];
  readonly #queue: WorkerTask[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #ready: Promise<{ stats: EngineStats; issues: ParseIssue[] }>;
  #next = 0;
  #failure: Error | undefined;
  #inline: SigmaEngine | undefined;
  #inlineBusy = false;
  #closing = false;

  constructor(count: number, rules: readonly SigmaRule[]) {
    const init: WorkerInit = { deminer: 'hunt-worker', rules: [...rules] };
    const readies: Promise<{ stats: EngineStats; issues: ParseIssue[] }>[] = [];
    for (let i = 0; i < count; i++) {
      // Processes rather than threads: matching reads whole files and allocates
      // briskly, and threads of one process share its memory map (every freed
      // mapping stalls the other threads), which held two threads to ~1.2× one.
      const w = fork(workerPath(), [], {
        serialization: 'advanced',
        execArgv: [],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      w.send(init);
      this.#workers.push(w);
      readies.push(
        new Promise((resolve, reject) => {
          w.on('message', (m: WorkerMessage) => {
            if (m.type === 'ready') {
              resolve({ stats: m.stats, issues: m.issues });
              // Two files in hand per worker: the next one is there when the last result leaves.
              for (let slot = 0; slot < SLOTS_PER_WORKER; slot++) this.#release(w);
            } else if (m.type === 'done') {
              this.#settle(m.result.id, (p) => p.resolve(m.result));
              this.#release(w);
            } else {
              this.#settle(m.id, (p) => p.reject(new Error(m.error)));
              this.#release(w);
            }
          });
          w.on('error', (e) => {
            this.#fail(e);
            reject(e);
          });
          w.on('exit', (code, signal) => {
            if (!this.#closing) this.#fail(new Error(`hunt worker exited (${signal ?? code})`));
          });
        }),
      );
    }
    // Every worker compiled the same rules: the first answer speaks for all.
    this.#ready = Promise.all(readies).then((r) => r[0]!);
  }

  ready(): Promise<{ stats: EngineStats; issues: ParseIssue[] }> {
    return this.#ready;
  }

  /** Lets the main thread match files too, with its own engine over the same rules. */
  matchOnMainThread(engine: SigmaEngine): void {
    this.#inline = engine;
    this.#pump();
  }

  run(path: string, size: number, source: string, window: TimeWindow): Promise<WorkerResult> {
    const id = this.#next++;
    const p = new Promise<WorkerResult>((resolve, reject) => {
      if (this.#failure) reject(this.#failure);
      else this.#pending.set(id, { resolve, reject });
    });
    // Results are awaited in input order, possibly later: an unobserved rejection must not end the process.
    p.catch(() => {});
    if (!this.#failure) {
      this.#queue.push({ id, path, size, source, window });
      this.#pump();
    }
    return p;
  }

  async close(): Promise<void> {
    this.#queue.length = 0;
    this.#closing = true;
    await Promise.all(
      this.#workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null || w.signalCode !== null) resolve();
            else {
              w.once('exit', () => resolve());
              w.kill();
            }
          }),
      ),
    );
  }

  #release(w: ChildProcess): void {
    this.#idle.push(w);
    this.#pump();
  }

  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) this.#idle.pop()!.send(this.#queue.shift()!);
    const engine = this.#inline;
    if (engine === undefined || this.#inlineBusy || this.#queue.length === 0) return;
    const task = this.#queue.shift()!;
    this.#inlineBusy = true;
    // On the next turn, so that results the workers posted meanwhile are taken first.
    setImmediate(() => {
      matchLogFile(engine, task)
        .then(
          (r) => this.#settle(r.id, (p) => p.resolve(r)),
          (e: unknown) =>
            this.#settle(task.id, (p) => p.reject(e instanceof Error ? e : new Error(String(e)))),
        )
        .finally(() => {
          this.#inlineBusy = false;
          this.#pump();
        });
    });
  }

  #settle(id: number, f: (p: Pending) => void): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    f(p);
  }

  #fail(e: Error): void {
    if (this.#failure) return;
    this.#failure = e;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
    this.#queue.length = 0;
  }
}
