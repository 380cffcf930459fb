import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import type { BehaviourSeries } from '../../core/host-snapshot.ts';
import { readRegular } from './read-bounded.ts';

/**
 * Per-process behaviour sampler: every call to `sample()` reads, for each
 * process, the counters the behaviour model needs (docs/behaviour.md) and
 * appends them to that process's series. Meant to run at about 1 Hz through
 * a scan window or in the agent.
 *
 * Everything is bounded, because /proc is attacker-shaped: at most
 * `maxProcesses` series (when full, a new process takes the place of the
 * tracked one that used the least CPU), `maxSamples` per series (oldest
 * dropped), `maxThreads` threads read per process, `maxCgroups` cgroups, and
 * each file read into a fixed buffer (a longer file is cut, never grown).
 */

export interface SamplerOptions {
  procRoot?: string;
  /** Where the cgroup file systems are mounted. */
  cgroupRoot?: string;
  maxProcesses?: number;
  maxSamples?: number;
  maxThreads?: number;
  maxCgroups?: number;
  /** Read per-thread counters of an idle process only every this many samples. */
  idleThreadEvery?: number;
  /** Called with the series of a process that has exited (or whose pid was reused), before it is dropped. */
  onExit?: (pid: number, series: BehaviourSeries) => void;
}

const COLUMNS = [
  'utime',
  'stime',
  'minflt',
  'majflt',
  'vcsw',
  'nvcsw',
  'runNs',
  'waitNs',
  'rchar',
  'wchar',
  'readBytes',
  'writeBytes',
  'threads',
  'rssPages',
  'stopped',
  'cgPeriods',
  'cgThrottled',
] as const;
type Column = (typeof COLUMNS)[number];

interface Tracked {
  startTicks: number;
  t: number[];
  cols: Record<Column, number[]>;
  nice: number;
  /** Cumulative per-thread counters, carried over when threads are not re-read. */
  vcsw: number;
  nvcsw: number;
  runNs: number;
  waitNs: number;
  lastTicks: number;
  samplesSinceThreads: number;
  cgroupStat?: string;
  cgroupCheckedAt: number;
  /** CPU ticks used while tracked. */
  cpuTicks: number;
}

/** Fields of /proc/PID/stat the sampler needs (numbers as the kernel prints them). */
export interface StatSample {
  state: string;
  minflt: number;
  majflt: number;
  utime: number;
  stime: number;
  nice: number;
  threads: number;
  startTicks: number;
  rssPages: number;
}

/** Parses a /proc/PID/stat line; the name may hold spaces and parentheses (the last `)` ends it). */
export function parseStatSample(text: string): StatSample | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields from 3 (state) on; field N is parts[N - 3].
  const parts = text.slice(close + 2, close + 2 + 1024).split(' ', 24);
  if (parts.length < 22) return undefined;
  const n = (field: number): number => {
    const v = Number(parts[field - 3]);
    return Number.isFinite(v) ? v : 0;
  };
  return {
    state: parts[0] ?? '',
    minflt: n(10),
    majflt: n(12),
    utime: n(14),
    stime: n(15),
    nice: Math.max(-20, Math.min(19, Math.trunc(n(19)))),
    threads: n(20),
    startTicks: n(22),
    rssPages: Math.max(0, n(24)),
  };
}

/** The number after `key` up to the end of its line, or 0. */
export function fieldAfter(text: string, key: string): number {
  const i = text.indexOf(key);
  if (i < 0) return 0;
  const from = i + key.length;
  const end = text.indexOf('\n', from);
  const v = Number(text.slice(from, end < 0 ? from + 32 : Math.min(end, from + 32)).trim());
  return Number.isFinite(v) && v >= 0 ? v : 0;
}

/** /proc/PID/schedstat: "run_ns wait_ns timeslices". */
export function parseSchedstat(text: string): { runNs: number; waitNs: number } {
  const [a, b] = text.trim().split(' ', 3);
  const run = Number(a);
  const wait = Number(b);
  return { runNs: Number.isFinite(run) ? run : 0, waitNs: Number.isFinite(wait) ? wait : 0 };
}

/**
 * The cpu.stat file of a process's CPU cgroup, from /proc/PID/cgroup: the
 * unified hierarchy (`0::/path`) on cgroup v2, the `cpu` controller's line on
 * v1. Undefined for the root cgroup (no quota is set there).
 */
export function cpuStatPaths(cgroupText: string, cgroupRoot: string): string[] {
  const out: string[] = [];
  for (const line of cgroupText.split('\n', 64)) {
    const i = line.indexOf(':');
    const j = line.indexOf(':', i + 1);
    if (i < 0 || j < 0) continue;
    const controllers = line.slice(i + 1, j);
    const path = line.slice(j + 1);
    if (!path.startsWith('/') || path === '/' || path.includes('/../') || path.endsWith('/..')) continue;
    if (controllers === '' && line.startsWith('0:')) {
      out.push(`${cgroupRoot}${path}/cpu.stat`, `${cgroupRoot}/unified${path}/cpu.stat`);
    } else if (controllers.split(',').includes('cpu')) {
      out.unshift(`${cgroupRoot}/${controllers}${path}/cpu.stat`, `${cgroupRoot}/cpu${path}/cpu.stat`);
    }
  }
  return out;
}

const BUF = Buffer.allocUnsafe(8192);

/** Up to 8 KiB of a /proc file (its size is 0, so read until EOF or the buffer is full). */
function readSmall(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    let n = 0;
    while (n < BUF.length) {
      const got = readSync(fd, BUF, n, BUF.length - n, null);
      if (got === 0) break;
      n += got;
    }
    return BUF.toString('latin1', 0, n);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export class BehaviourSampler {
  readonly procRoot: string;
  readonly cgroupRoot: string;
  readonly maxProcesses: number;
  readonly maxSamples: number;
  readonly maxThreads: number;
  readonly maxCgroups: number;
  readonly idleThreadEvery: number;
  private readonly onExit: ((pid: number, series: BehaviourSeries) => void) | undefined;
  /** Processes not tracked because the table was full of busier ones. */
  skipped = 0;
  samples = 0;
  /** New processes the last sample had no room for. */
  private pressure = 0;
  private readonly tracked = new Map<number, Tracked>();

  constructor(opts: SamplerOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.cgroupRoot = opts.cgroupRoot ?? '/sys/fs/cgroup';
    this.maxProcesses = opts.maxProcesses ?? 2048;
    this.maxSamples = opts.maxSamples ?? 900;
    this.maxThreads = opts.maxThreads ?? 64;
    this.maxCgroups = opts.maxCgroups ?? 256;
    this.idleThreadEvery = opts.idleThreadEvery ?? 10;
    this.onExit = opts.onExit;
  }

  /** Reads every process once; `tMs` is a monotonic time in milliseconds. */
  sample(tMs: number, pids?: readonly number[]): void {
    this.samples++;
    if (this.pressure > 0) this.evictIdle(Math.min(this.pressure, 64));
    let wanted = 0;
    const list = pids ?? this.listPids();
    const alive = new Set<number>();
    const cgroupValues = new Map<string, { periods: number; throttled: number }>();
    for (const pid of list) {
      const st = this.readStat(pid);
      if (!st) continue;
      alive.add(pid);
      let tr = this.tracked.get(pid);
      if (tr && tr.startTicks !== st.startTicks) {
        this.drop(pid); // pid reused
        tr = undefined;
      }
      if (!tr) {
        if (this.tracked.size >= this.maxProcesses) {
          this.skipped++;
          wanted++;
          continue;
        }
        tr = this.newTracked(st.startTicks);
        this.tracked.set(pid, tr);
      }
      this.append(pid, tr, st, tMs, cgroupValues);
    }
    for (const pid of [...this.tracked.keys()]) if (!alive.has(pid)) this.drop(pid);
    this.pressure = wanted;
  }

  private drop(pid: number): void {
    if (this.onExit) {
      const s = this.seriesOf(pid);
      if (s) this.onExit(pid, s);
    }
    this.tracked.delete(pid);
  }

  pids(): number[] {
    return [...this.tracked.keys()];
  }

  get size(): number {
    return this.tracked.size;
  }

  /** The series of a process (copies), from samples at or after `sinceMs`. */
  seriesOf(pid: number, sinceMs = -Infinity): BehaviourSeries | undefined {
    const tr = this.tracked.get(pid);
    if (!tr || tr.t.length === 0) return undefined;
    let from = 0;
    while (from < tr.t.length && tr.t[from]! < sinceMs) from++;
    if (from >= tr.t.length) return undefined;
    const t0 = tr.t[from]!;
    const cols = {} as Record<Column, number[]>;
    for (const c of COLUMNS) cols[c] = tr.cols[c].slice(from);
    return { t: tr.t.slice(from).map((t) => Math.round(t - t0)), ...cols, nice: tr.nice };
  }

  private newTracked(startTicks: number): Tracked {
    const cols = {} as Record<Column, number[]>;
    for (const c of COLUMNS) cols[c] = [];
    return {
      startTicks,
      t: [],
      cols,
      nice: 0,
      vcsw: 0,
      nvcsw: 0,
      runNs: 0,
      waitNs: 0,
      lastTicks: -1,
      samplesSinceThreads: Number.POSITIVE_INFINITY,
      cgroupCheckedAt: Number.NEGATIVE_INFINITY,
      cpuTicks: 0,
    };
  }

  /**
   * Makes room after a sample that had to skip processes: drops up to
   * `count` series that used no CPU over all of at least `minSamples`
   * samples. A busy process is never dropped for a new one, so flooding the
   * table with idle processes cannot push a running miner out.
   */
  private evictIdle(count: number): void {
    const minSamples = Math.min(30, this.maxSamples);
    for (const [pid, tr] of this.tracked) {
      if (count <= 0) break;
      if (tr.cpuTicks === 0 && tr.t.length >= minSamples) {
        this.drop(pid);
        count--;
      }
    }
  }

  private listPids(): number[] {
    const out: number[] = [];
    let names: string[];
    try {
      names = readdirSync(this.procRoot);
    } catch {
      return out;
    }
    for (const name of names) {
      const c = name.charCodeAt(0);
      if (c >= 48 && c <= 57) out.push(Number(name));
    }
    return out;
  }

  private readStat(pid: number): StatSample | undefined {
    const text = readSmall(`${this.procRoot}/${pid}/stat`);
    const st = text ? parseStatSample(text) : undefined;
    // Kernel threads have no memory map; they are not programs anyone dropped.
    if (!st) return undefined;
    return st;
  }

  private append(
    pid: number,
    tr: Tracked,
    st: StatSample,
    tMs: number,
    cgroupValues: Map<string, { periods: number; throttled: number }>,
  ): void {
    const dir = `${this.procRoot}/${pid}`;
    const ticks = st.utime + st.stime;
    if (tr.lastTicks >= 0) tr.cpuTicks += Math.max(0, ticks - tr.lastTicks);
    // Per-thread counters cost one read per thread: read them when the process ran, else now and then.
    if (ticks !== tr.lastTicks || tr.samplesSinceThreads >= this.idleThreadEvery) {
      this.readThreads(dir, tr, st.threads);
      tr.samplesSinceThreads = 0;
    } else tr.samplesSinceThreads++;
    tr.lastTicks = ticks;
    const io = readSmall(`${dir}/io`) ?? '';
    if (tMs - tr.cgroupCheckedAt >= 30_000) {
      tr.cgroupCheckedAt = tMs;
      tr.cgroupStat = undefined;
      const cg = readSmall(`${dir}/cgroup`);
      if (cg) {
        for (const p of cpuStatPaths(cg, this.cgroupRoot)) {
          if (readRegular(p, 4096)) {
            tr.cgroupStat = p;
            break;
          }
        }
      }
    }
    let cg = { periods: 0, throttled: 0 };
    if (tr.cgroupStat) {
      const known = cgroupValues.get(tr.cgroupStat);
      if (known) cg = known;
      else if (cgroupValues.size < this.maxCgroups) {
        const text = readSmall(tr.cgroupStat) ?? '';
        cg = { periods: fieldAfter(text, 'nr_periods '), throttled: fieldAfter(text, 'nr_throttled ') };
        cgroupValues.set(tr.cgroupStat, cg);
      }
    }
    tr.nice = st.nice;
    tr.t.push(tMs);
    const c = tr.cols;
    c.utime.push(st.utime);
    c.stime.push(st.stime);
    c.minflt.push(st.minflt);
    c.majflt.push(st.majflt);
    c.vcsw.push(tr.vcsw);
    c.nvcsw.push(tr.nvcsw);
    c.runNs.push(tr.runNs);
    c.waitNs.push(tr.waitNs);
    c.rchar.push(fieldAfter(io, 'rchar:'));
    c.wchar.push(fieldAfter(io, 'wchar:'));
    c.readBytes.push(fieldAfter(io, 'read_bytes:'));
    c.writeBytes.push(fieldAfter(io, '\nwrite_bytes:'));
    c.threads.push(st.threads);
    c.rssPages.push(st.rssPages);
    c.stopped.push(st.state === 'T' || st.state === 't' ? 1 : 0);
    c.cgPeriods.push(cg.periods);
    c.cgThrottled.push(cg.throttled);
    if (tr.t.length > this.maxSamples) {
      const drop = tr.t.length - this.maxSamples;
      tr.t.splice(0, drop);
      for (const col of COLUMNS) c[col].splice(0, drop);
    }
  }

  /** Context switches and schedstat summed over (at most maxThreads of) the process's threads. */
  private readThreads(dir: string, tr: Tracked, threads: number): void {
    let tids: string[];
    if (threads <= 1) tids = ['.'];
    else {
      try {
        tids = readdirSync(`${dir}/task`).slice(0, this.maxThreads);
      } catch {
        return;
      }
    }
    let vcsw = 0;
    let nvcsw = 0;
    let runNs = 0;
    let waitNs = 0;
    for (const tid of tids) {
      const base = tid === '.' ? dir : `${dir}/task/${tid}`;
      const status = readSmall(`${base}/status`);
      if (status) {
        vcsw += fieldAfter(status, '\nvoluntary_ctxt_switches:');
        nvcsw += fieldAfter(status, '\nnonvoluntary_ctxt_switches:');
      }
      const ss = readSmall(`${base}/schedstat`);
      if (ss) {
        const s = parseSchedstat(ss);
        runNs += s.runNs;
        waitNs += s.waitNs;
      }
    }
    tr.vcsw = vcsw;
    tr.nvcsw = nvcsw;
    tr.runNs = runNs;
    tr.waitNs = waitNs;
  }
}
