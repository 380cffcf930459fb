import { Worker } from 'node:worker_threads';
import type { Failure } from './failure.ts';
import type { ReplayAnswer, WorkerInput } from './worker.ts';

export type Outcome = { kind: 'ok' } | Failure;

/** Heap limit of a worker: a parser that allocates without bound ends its worker, not the run. */
export const WORKER_HEAP_MB = 1536;

/**
 * Runs single inputs through a target in a watched worker thread, one at a
 * time: an input that runs past `timeoutMs` is a hang (the worker is ended
 * and a fresh one started for the next input), a worker that dies (out of
 * memory) is reported with its error code.
 */
export class Replayer {
  private current: { worker: Worker; ready: Promise<void> } | undefined;
  /** Settles the input in flight; belongs to one worker, so a worker ended earlier cannot settle a later input. */
  private pending: { worker: Worker; settle: (o: Outcome) => void } | undefined;

  constructor(
    private readonly target: string,
    private readonly timeoutMs: number,
  ) {}

  private start(): { worker: Worker; ready: Promise<void> } {
    const workerData: WorkerInput = { mode: 'replay', target: this.target };
    const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    });
    let loaded: () => void = () => {};
    let failed: (e: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      loaded = resolve;
      failed = reject;
    });
    // Nobody may be waiting on `ready` when the worker dies later; that is not an unhandled rejection.
    ready.catch(() => {});
    const settle = (o: Outcome): void => {
      if (this.current?.worker === worker) this.current = undefined;
      const p = this.pending;
      if (p?.worker !== worker) return;
      this.pending = undefined;
      p.settle(o);
    };
    worker.on('message', (a: ReplayAnswer) => {
      if (a.kind === 'ready') loaded();
      else {
        const p = this.pending;
        if (p?.worker !== worker) return;
        this.pending = undefined;
        p.settle(a.kind === 'ok' ? { kind: 'ok' } : a.failure);
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      failed(e);
      settle({ kind: 'ended', signature: e.code ?? e.message.split('\n')[0]!, stack: e.stack ?? e.message });
    });
    worker.on('exit', (code) => {
      failed(new Error(`worker exited with ${code} before it loaded the target`));
      settle({ kind: 'ended', signature: `exit ${code}`, stack: `worker exited with ${code}` });
    });
    return { worker, ready };
  }

  /** Runs one input; rejects only when the target cannot even be loaded. */
  async run(input: Uint8Array): Promise<Outcome> {
    this.current ??= this.start();
    const { worker, ready } = this.current;
    // The clock starts once the target is loaded: start-up is not the input's time.
    await ready;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.pending?.worker !== worker) return;
        this.pending = undefined;
        if (this.current?.worker === worker) this.current = undefined;
        void worker.terminate();
        resolve({ kind: 'hang' });
      }, this.timeoutMs);
      this.pending = {
        worker,
        settle: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
      };
      worker.postMessage(input);
    });
  }

  async close(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    this.pending = undefined;
    if (!c) return;
    const ended = new Promise<void>((resolve) => c.worker.once('exit', () => resolve()));
    c.worker.postMessage(null);
    // A worker still busy (it should not be) is ended the hard way.
    const timer = setTimeout(() => void c.worker.terminate(), 2000);
    await ended;
    clearTimeout(timer);
  }
}
