import type { HostSnapshot } from '../../core/host-snapshot.ts';
import { hashExecutable } from './hash.ts';
import { BehaviourSampler } from './sampler.ts';

/**
 * The agent's behaviour sampling: 1 Hz, but only for the processes that
 * use the CPU.
 *
 * The one-shot scan samples every process once a second through its window
 * (`scan --window 60s`). An agent doing that all the time on a host with
 * ~400 processes spent 1.3–2 % of a core on reads alone, over its whole
 * budget (bench/README.md). Nearly all of those processes are asleep, and
 * a sleeping process has no behaviour for the model to judge: a miner
 * computes. So each scan (every 10 s) names the processes that used at
 * least `minCores` over its window, and only those are sampled at 1 Hz
 * until they have been idle for `lingerMs`. A throttled miner that stops
 * and continues stays watched across its pauses. The cost follows the busy
 * processes, not the process count.
 *
 * Bounded: at most `maxWatched` processes (the busiest first), each with at
 * most `keepMs` of samples.
 */
export interface BehaviourWatchOptions {
  procRoot?: string;
  cgroupRoot?: string;
  /** CPU over a scan window (cores) that makes a process watched. Default 0.02. */
  minCores?: number;
  /** A watched process idle for this long stops being watched. Default 5 min. */
  lingerMs?: number;
  /** Samples kept per process: the analytic scores the last minutes. Default 3 min. */
  keepMs?: number;
  /**
   * A series is handed to the analytic only once it spans this long: the
   * model was trained and evaluated on minutes, and a few seconds of a
   * database or a compiler say too little. Default 55 s.
   */
  minSeriesMs?: number;
  /** At most this many processes watched. Default 64. */
  maxWatched?: number;
  /** Sampling period. Default 1 s. */
  periodMs?: number;
  /** Pids never watched (the agent itself). */
  exclude?: readonly number[];
}

interface Watched {
  /** The process's start time as the scan saw it: a reused pid is another process. */
  startTime: string | undefined;
  lastBusy: number;
}

export class BehaviourWatch {
  readonly #sampler: BehaviourSampler;
  readonly #watched = new Map<number, Watched>();
  readonly #minCores: number;
  readonly #lingerMs: number;
  readonly #keepMs: number;
  readonly #maxWatched: number;
  readonly #minSeriesMs: number;
  readonly #periodMs: number;
  readonly #exclude: Set<number>;
  readonly #procRoot: string;
  readonly #t0 = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #pids: number[] = [];
  /** Samples taken (for the bench and tests). */
  samples = 0;

  constructor(o: BehaviourWatchOptions = {}) {
    this.#minCores = o.minCores ?? 0.02;
    this.#lingerMs = o.lingerMs ?? 300_000;
    this.#keepMs = o.keepMs ?? 180_000;
    this.#maxWatched = o.maxWatched ?? 64;
    this.#minSeriesMs = o.minSeriesMs ?? 55_000;
    this.#periodMs = o.periodMs ?? 1000;
    this.#exclude = new Set(o.exclude ?? [process.pid]);
    this.#procRoot = o.procRoot ?? '/proc';
    this.#sampler = new BehaviourSampler({
      ...(o.procRoot ? { procRoot: o.procRoot } : {}),
      ...(o.cgroupRoot ? { cgroupRoot: o.cgroupRoot } : {}),
      maxProcesses: this.#maxWatched,
      maxSamples: Math.ceil(this.#keepMs / this.#periodMs) + 2,
    });
  }

  /** Starts the 1 Hz sampling (an unref'd timer: it never holds the process open). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.sample(), this.#periodMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One sample of the watched processes (the timer calls it; tests may too). */
  sample(): void {
    if (this.#pids.length === 0 && this.#sampler.size === 0) return;
    this.samples++;
    this.#sampler.sample(performance.now() - this.#t0, this.#pids);
  }

  /** The pids watched now. */
  watched(): number[] {
    return [...this.#pids];
  }

  /**
   * After a scan: the processes busy over its window join (or stay), those
   * idle for `lingerMs` or gone leave.
   */
  observe(snapshot: HostSnapshot, now = Date.now()): void {
    const seen = new Set<number>();
    const busy: { pid: number; cores: number; startTime: string | undefined }[] = [];
    for (const p of snapshot.processes) {
      if (p.kernelThread || this.#exclude.has(p.pid)) continue;
      seen.add(p.pid);
      const w = this.#watched.get(p.pid);
      if (w && w.startTime !== p.startTime) this.#watched.delete(p.pid);
      if (p.cpuCores >= this.#minCores) busy.push({ pid: p.pid, cores: p.cpuCores, startTime: p.startTime });
    }
    for (const [pid, w] of this.#watched)
      if (!seen.has(pid) || now - w.lastBusy > this.#lingerMs) this.#watched.delete(pid);
    busy.sort((a, b) => b.cores - a.cores);
    for (const b of busy) {
      const w = this.#watched.get(b.pid);
      if (w) w.lastBusy = now;
      else if (this.#watched.size < this.#maxWatched)
        this.#watched.set(b.pid, { startTime: b.startTime, lastBusy: now });
    }
    this.#pids = [...this.#watched.keys()];
  }

  /**
   * The snapshot with each watched process's series (the last `keepMs`)
   * attached, once it spans `minSeriesMs`. A package-owned binary is not
   * hashed by the scan; its series carries the hash (read once per binary
   * version, hash.ts caches it), so that the per-binary baseline knows a
   * replaced file from the one it has seen.
   */
  attach(snapshot: HostSnapshot): HostSnapshot {
    if (this.#watched.size === 0) return snapshot;
    return {
      ...snapshot,
      processes: snapshot.processes.map((p) => {
        if (p.kernelThread || !this.#watched.has(p.pid)) return p;
        const series = this.#sampler.seriesOf(p.pid);
        if (!series || (series.t.at(-1) ?? 0) < this.#minSeriesMs) return p;
        const exeSha256 =
          p.sha256 ??
          (p.packaged === true && !p.exeDeleted
            ? hashExecutable(`${this.#procRoot}/${p.pid}/exe`)
            : undefined);
        return { ...p, behaviour: exeSha256 ? { ...series, exeSha256 } : series };
      }),
    };
  }
}
