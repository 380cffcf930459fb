/**
 * Dataset builder: recordings (record.ts) → one row per process-minute
 * (60 s windows sliding by 10 s), with the features the model scores
 * (src/ml/behaviour/features.ts), its label, and the groups the evaluation
 * holds out (workload, capping method).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BehaviourSeries } from '../../src/core/host-snapshot.ts';
import { MIN_SAMPLES, slidingWindows, windowFeatures } from '../../src/ml/behaviour/features.ts';
import type { Recording } from './record.ts';

export const WINDOW_MS = 60_000;
export const STEP_MS = 10_000;

export interface Row {
  x: number[];
  y: 0 | 1;
  /** Held out together: a benign workload, `host-background-N` for the other programs of the host (system paths only, in five groups by name), `xmrig` for the miner. */
  workload: string;
  capping: string;
  scenario: string;
  comm: string;
  pid: number;
  cpus: number;
  /** Cores used per interval of the window (what the static CPU rules look at). */
  cpuSeries: number[];
  /** The same features over each 10 s step of the window, for the sequence model. */
  seq: number[][];
}

export const SEQ_STEP_MS = 10_000;

/** Features of each `SEQ_STEP_MS` step of samples [from, to]. */
export function stepFeatures(s: BehaviourSeries, cpus: number, from: number, to: number): number[][] {
  const out: number[][] = [];
  let a = from;
  while (a < to) {
    let b = a;
    while (b + 1 <= to && s.t[b + 1]! - s.t[a]! <= SEQ_STEP_MS + 500) b++;
    const x = windowFeatures(s, cpus, a, b);
    if (x) out.push(x);
    if (b === a) break;
    a = b;
  }
  return out;
}

/**
 * The host's other programs are held out by program: five groups by a hash
 * of the name, so that no fold is scored on a program it was trained on.
 */
export function backgroundGroup(comm: string): string {
  let h = 2166136261;
  for (let i = 0; i < comm.length; i++) h = Math.imul(h ^ comm.charCodeAt(i), 16777619) >>> 0;
  return `host-background-${h % 5}`;
}

export function loadRecordings(dir: string): Recording[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .map((f) => JSON.parse(gunzipSync(readFileSync(join(dir, f))).toString('utf8')) as Recording);
}

function cpuSeriesOf(s: BehaviourSeries, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from + 1; i <= to; i++) {
    const d = (s.t[i]! - s.t[i - 1]!) / 1000;
    if (d <= 0) continue;
    const ticks = s.utime[i]! + s.stime[i]! - s.utime[i - 1]! - s.stime[i - 1]!;
    out.push(Math.round((Math.max(0, ticks) / 100 / d) * 1000) / 1000);
  }
  return out;
}

export function buildRows(recordings: readonly Recording[]): Row[] {
  const rows: Row[] = [];
  for (const rec of recordings) {
    const sc = rec.scenario;
    for (const p of rec.processes) {
      const workload = p.role === 'workload' ? sc.workload : backgroundGroup(p.comm);
      const y: 0 | 1 = p.role === 'workload' && sc.label === 'miner' ? 1 : 0;
      const spans = slidingWindows(p.series.t, WINDOW_MS, STEP_MS);
      // A process that lived less than a window is scored on what there is (as the scan does).
      if (spans.length === 0 && p.series.t.length >= MIN_SAMPLES) spans.push([0, p.series.t.length - 1]);
      for (const [from, to] of spans) {
        // The connection count last taken at or before the window's end.
        let outbound: number | undefined;
        for (let i = to; i >= from && outbound === undefined; i--) {
          const v = p.outbound[i];
          if (v !== undefined && v >= 0) outbound = v;
        }
        const series = { ...p.series, ...(outbound !== undefined ? { outbound } : {}) };
        const x = windowFeatures(series, rec.host.cpus, from, to);
        if (!x) continue;
        rows.push({
          x,
          y,
          workload,
          capping: p.role === 'workload' ? sc.capping : 'none',
          scenario: sc.name,
          comm: p.comm,
          pid: p.pid,
          cpus: rec.host.cpus,
          cpuSeries: cpuSeriesOf(p.series, from, to),
          seq: stepFeatures(series, rec.host.cpus, from, to),
        });
      }
    }
  }
  return rows;
}
