import type { BehaviourSeries } from '../../core/host-snapshot.ts';

/**
 * Summary features of one process over one window (about a minute of 1 Hz
 * samples). docs/behaviour.md says what each one measures and why it
 * separates mining from work. Pure: a series in, numbers out; every value is
 * finite and clipped, whatever the counters say.
 */

/** Linux process times are in USER_HZ ticks, 100 per second on mainstream architectures. */
const CLK_TCK = 100;

export const FEATURE_NAMES = [
  'cpu_mean',
  'cpu_cv',
  'cpu_active',
  'user_share',
  'vcsw_per_cpu_s',
  'nvcsw_share',
  'minflt_per_cpu_s',
  'io_per_cpu_s',
  'disk_per_s',
  'rss_log_mb',
  'rss_growth',
  'threads_per_core',
  'stopped_share',
  'throttled_share',
  'runq_wait_ratio',
  'outbound_conns',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Fewer samples than this say too little about a process to score it. */
export const MIN_SAMPLES = 10;

const clip = (x: number, lo: number, hi: number): number =>
  Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : lo;

/** Growth of a counter over [from, to], never negative (thread sums step back when threads exit). */
function delta(col: readonly number[], from: number, to: number): number {
  const a = col[from] ?? 0;
  const b = col[to] ?? 0;
  return b > a ? b - a : 0;
}

/**
 * Features of samples [from, to] of a series (inclusive), or undefined when
 * the slice is too short. `cpus` is the number of cores of the host.
 */
export function windowFeatures(
  s: BehaviourSeries,
  cpus: number,
  from = 0,
  to = s.t.length - 1,
): number[] | undefined {
  if (to - from + 1 < MIN_SAMPLES) return undefined;
  const dt = ((s.t[to] ?? 0) - (s.t[from] ?? 0)) / 1000;
  if (!(dt > 0)) return undefined;
  // Cores used in each interval.
  let sum = 0;
  let sum2 = 0;
  let active = 0;
  let n = 0;
  for (let i = from + 1; i <= to; i++) {
    const d = ((s.t[i] ?? 0) - (s.t[i - 1] ?? 0)) / 1000;
    if (!(d > 0)) continue;
    const ticks = delta(s.utime, i - 1, i) + delta(s.stime, i - 1, i);
    const c = ticks / CLK_TCK / d;
    sum += c;
    sum2 += c * c;
    if (c >= 0.02) active++;
    n++;
  }
  if (n === 0) return undefined;
  const mean = sum / n;
  const sd = Math.sqrt(Math.max(0, sum2 / n - mean * mean));
  const ut = delta(s.utime, from, to);
  const stt = delta(s.stime, from, to);
  const cpuS = Math.max((ut + stt) / CLK_TCK, 0.01);
  const vcsw = delta(s.vcsw, from, to);
  const nvcsw = delta(s.nvcsw, from, to);
  const io = delta(s.rchar, from, to) + delta(s.wchar, from, to);
  const disk = delta(s.readBytes, from, to) + delta(s.writeBytes, from, to);
  const rssFirst = (s.rssPages[from] ?? 0) * 4096;
  const rssLast = (s.rssPages[to] ?? 0) * 4096;
  const periods = delta(s.cgPeriods, from, to);
  const run = delta(s.runNs, from, to);
  const wait = delta(s.waitNs, from, to);
  let stopped = 0;
  for (let i = from; i <= to; i++) stopped += s.stopped[i] ? 1 : 0;
  const threads = s.threads[to] ?? 1;
  return [
    clip(mean, 0, 64),
    mean >= 0.01 ? clip(sd / mean, 0, 4) : 0,
    active / n,
    ut + stt > 0 ? ut / (ut + stt) : 0.5,
    clip(Math.log10(1 + vcsw / cpuS), 0, 8),
    vcsw + nvcsw > 0 ? nvcsw / (vcsw + nvcsw) : 0,
    clip(Math.log10(1 + delta(s.minflt, from, to) / cpuS), 0, 8),
    clip(Math.log10(1 + io / 1024 / cpuS), 0, 10),
    clip(Math.log10(1 + disk / 1024 / dt), 0, 10),
    clip(Math.log10(1 + rssLast / 1048576), 0, 6),
    rssFirst > 0 ? clip((rssLast - rssFirst) / rssFirst, -1, 4) : 0,
    clip(threads / Math.max(1, cpus), 0, 64),
    stopped / (to - from + 1),
    periods > 0 ? clip(delta(s.cgThrottled, from, to) / periods, 0, 1) : 0,
    run > 0 ? clip(Math.log10(1 + wait / run), 0, 4) : 0,
    clip(Math.log10(1 + (s.outbound ?? 0)), 0, 4),
  ];
}

/** Window start indices: windows of `windowMs` sliding by `stepMs` over a series. */
export function slidingWindows(t: readonly number[], windowMs: number, stepMs: number): [number, number][] {
  const out: [number, number][] = [];
  let from = 0;
  for (let start = t[0] ?? 0; ; start += stepMs) {
    while (from < t.length && t[from]! < start) from++;
    if (from >= t.length) break;
    let to = from;
    while (to + 1 < t.length && t[to + 1]! <= start + windowMs) to++;
    if (t[to]! - t[from]! < windowMs * 0.9) break;
    out.push([from, to]);
  }
  return out;
}

/**
 * The features a process has without a behaviour series (CPU per interval,
 * RSS, threads); the others are 0. Scored only by the CPU-only model.
 */
export function cpuProfileFeatures(
  cpuSeries: readonly number[],
  rssBytes: number,
  threads: number,
  cpus: number,
): number[] | undefined {
  const n = cpuSeries.length;
  if (n < 3) return undefined;
  let sum = 0;
  let sum2 = 0;
  let active = 0;
  for (const c of cpuSeries) {
    const v = Number.isFinite(c) ? c : 0;
    sum += v;
    sum2 += v * v;
    if (v >= 0.02) active++;
  }
  const mean = sum / n;
  const sd = Math.sqrt(Math.max(0, sum2 / n - mean * mean));
  const x = new Array<number>(FEATURE_COUNT).fill(0);
  x[0] = clip(mean, 0, 64);
  x[1] = mean >= 0.01 ? clip(sd / mean, 0, 4) : 0;
  x[2] = active / n;
  x[9] = clip(Math.log10(1 + rssBytes / 1048576), 0, 6);
  x[11] = clip(threads / Math.max(1, cpus), 0, 64);
  return x;
}
