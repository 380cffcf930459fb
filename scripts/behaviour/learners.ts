/**
 * The candidate models, trained in plain TypeScript and deterministic (the
 * only randomness is seeded): a logistic model and boosted stumps over the
 * summary features (shippable as src/ml/behaviour/model.ts reads them), an
 * unsupervised per-host baseline (distance to the host's own benign
 * process-minutes), and a small GRU over the minute's 10-second steps.
 */
import { seededRandom } from '../../src/core/random.ts';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../src/ml/behaviour/features.ts';
import type { BehaviourModel } from '../../src/ml/behaviour/model.ts';
import { margin } from '../../src/ml/behaviour/model.ts';

export interface TrainRow {
  x: number[];
  y: 0 | 1;
}

export type Scorer = (x: readonly number[]) => number;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function standardisation(rows: readonly TrainRow[]): { mean: number[]; scale: number[] } {
  const mean = new Array<number>(FEATURE_COUNT).fill(0);
  const scale = new Array<number>(FEATURE_COUNT).fill(0);
  for (const r of rows) for (let i = 0; i < FEATURE_COUNT; i++) mean[i]! += r.x[i]! / rows.length;
  for (const r of rows)
    for (let i = 0; i < FEATURE_COUNT; i++) scale[i]! += (r.x[i]! - mean[i]!) ** 2 / rows.length;
  return { mean, scale: scale.map((v) => Math.max(Math.sqrt(v), 1e-3)) };
}

/** Class weights that give both classes the same total weight. */
function classWeights(rows: readonly TrainRow[]): [number, number] {
  const pos = rows.filter((r) => r.y === 1).length;
  const neg = rows.length - pos;
  return [rows.length / (2 * Math.max(1, neg)), rows.length / (2 * Math.max(1, pos))];
}

const base = (kind: BehaviourModel['kind']): BehaviourModel => ({
  format: 'deminer-behaviour-model',
  version: 1,
  kind,
  features: [...FEATURE_NAMES],
  mean: new Array<number>(FEATURE_COUNT).fill(0),
  scale: new Array<number>(FEATURE_COUNT).fill(1),
  weights: [],
  bias: 0,
  stumps: [],
  threshold: 0.5,
  provenance: {},
});

/** L2-regularised logistic regression, full-batch gradient descent (no randomness). */
export function trainLogistic(
  rows: readonly TrainRow[],
  opts: { epochs?: number; l2?: number; lr?: number } = {},
): BehaviourModel {
  const { mean, scale } = standardisation(rows);
  const [wNeg, wPos] = classWeights(rows);
  const w = new Array<number>(FEATURE_COUNT).fill(0);
  let b = 0;
  const epochs = opts.epochs ?? 600;
  const l2 = opts.l2 ?? 1e-3;
  const lr = opts.lr ?? 0.5;
  const z = rows.map((r) => r.x.map((v, i) => (v - mean[i]!) / scale[i]!));
  const total = rows.length * 1;
  for (let e = 0; e < epochs; e++) {
    const g = new Array<number>(FEATURE_COUNT).fill(0);
    let gb = 0;
    for (let k = 0; k < rows.length; k++) {
      const zk = z[k]!;
      let s = b;
      for (let i = 0; i < FEATURE_COUNT; i++) s += w[i]! * zk[i]!;
      const cw = rows[k]!.y ? wPos : wNeg;
      const err = (sigmoid(s) - rows[k]!.y) * cw;
      for (let i = 0; i < FEATURE_COUNT; i++) g[i]! += err * zk[i]!;
      gb += err;
    }
    for (let i = 0; i < FEATURE_COUNT; i++) w[i] = w[i]! - lr * (g[i]! / total + l2 * w[i]!);
    b -= (lr * gb) / total;
  }
  return {
    ...base('logistic'),
    mean: mean.map(round),
    scale: scale.map(round),
    weights: w.map(round),
    bias: round(b),
  };
}

/** Gradient-boosted depth-one trees on logistic loss; split points at feature quantiles. */
export function trainStumps(
  rows: readonly TrainRow[],
  opts: {
    rounds?: number;
    lr?: number;
    colsample?: number;
    seed?: number;
    /** Features never split on. */
    exclude?: readonly number[];
  } = {},
): BehaviourModel {
  const rounds = opts.rounds ?? 150;
  const excluded = new Set(opts.exclude ?? []);
  const lr = opts.lr ?? 0.2;
  // Each round chooses among a seeded random half of the features, so that the
  // ensemble spreads over many features instead of the first that separates
  // the training set (which generalises badly to a workload it has not seen).
  const colsample = opts.colsample ?? 0.5;
  const random = seededRandom(opts.seed ?? 5);
  const [wNeg, wPos] = classWeights(rows);
  const cw = rows.map((r) => (r.y ? wPos : wNeg));
  // Candidate thresholds: up to 24 distinct quantiles per feature.
  const cuts: number[][] = [];
  for (let f = 0; f < FEATURE_COUNT; f++) {
    const v = [...new Set(rows.map((r) => r.x[f]!))].sort((a, b) => a - b);
    const c: number[] = [];
    for (let q = 1; q < 24; q++) {
      const i = Math.floor((q / 24) * (v.length - 1));
      const t = v.length > 1 ? (v[i]! + v[Math.min(i + 1, v.length - 1)]!) / 2 : v[0]!;
      if (c.at(-1) !== t) c.push(round(t));
    }
    cuts.push(c);
  }
  const pos = rows.reduce((a, r, k) => a + r.y * cw[k]!, 0);
  const all = cw.reduce((a, b) => a + b, 0);
  const b0 = Math.log(Math.max(pos, 1e-6) / Math.max(all - pos, 1e-6));
  const f = new Array<number>(rows.length).fill(b0);
  const stumps: BehaviourModel['stumps'] = [];
  for (let r = 0; r < rounds; r++) {
    const g = rows.map((row, k) => (row.y - sigmoid(f[k]!)) * cw[k]!);
    const h = rows.map((_, k) => Math.max(sigmoid(f[k]!) * (1 - sigmoid(f[k]!)) * cw[k]!, 1e-9));
    let best: { f: number; t: number; l: number; r: number; gain: number } | undefined;
    const cols = Array.from({ length: FEATURE_COUNT }, (_, i) => i)
      .filter(() => random() < colsample)
      .filter((i) => !excluded.has(i));
    for (const fi of cols) {
      for (const t of cuts[fi]!) {
        let gl = 0;
        let hl = 0;
        let gr = 0;
        let hr = 0;
        for (let k = 0; k < rows.length; k++) {
          if (rows[k]!.x[fi]! <= t) {
            gl += g[k]!;
            hl += h[k]!;
          } else {
            gr += g[k]!;
            hr += h[k]!;
          }
        }
        const lam = 1;
        const gain = (gl * gl) / (hl + lam) + (gr * gr) / (hr + lam);
        if (!best || gain > best.gain + 1e-12)
          best = { f: fi, t, l: gl / (hl + lam), r: gr / (hr + lam), gain };
      }
    }
    if (!best) break;
    const st = { f: best.f, t: best.t, l: round(best.l * lr), r: round(best.r * lr) };
    stumps.push(st);
    for (let k = 0; k < rows.length; k++) f[k] = f[k]! + (rows[k]!.x[st.f]! <= st.t ? st.l : st.r);
  }
  return { ...base('stumps'), bias: round(b0), stumps };
}

/**
 * Unsupervised per-host baseline: how far a process-minute is from the
 * nearest of the host's own benign process-minutes (k-nearest-neighbour
 * distance in standardised feature space). Needs no miner to train.
 */
export function trainBaseline(
  benign: readonly TrainRow[],
  opts: { k?: number; seed?: number; max?: number } = {},
): Scorer {
  const k = opts.k ?? 3;
  const random = seededRandom(opts.seed ?? 7);
  const ref = [...benign];
  const max = opts.max ?? 1500;
  while (ref.length > max) ref.splice(Math.floor(random() * ref.length), 1);
  const { mean, scale } = standardisation(ref);
  const zs = ref.map((r) => r.x.map((v, i) => (v - mean[i]!) / scale[i]!));
  return (x) => {
    const z = x.map((v, i) => (v - mean[i]!) / scale[i]!);
    const best: number[] = [];
    for (const r of zs) {
      let d = 0;
      for (let i = 0; i < FEATURE_COUNT; i++) d += (z[i]! - r[i]!) ** 2;
      if (best.length < k) best.push(d);
      else if (d < best[k - 1]!) best[k - 1] = d;
      else continue;
      best.sort((a, b) => a - b);
    }
    const d = Math.sqrt(best.reduce((a, b) => a + b, 0) / Math.max(1, best.length));
    // Squashed to 0..1 for the same threshold machinery as the other models.
    return 1 - Math.exp(-d / 4);
  };
}

export function scorerOf(m: BehaviourModel): Scorer {
  return (x) => sigmoid(margin(m, x));
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * A small GRU over the minute's 10-second steps (each step the same summary
 * features over its 10 s), its last state read by a logistic unit: the
 * sequence model the issue asks to compare. Seeded initialisation and
 * shuffling, Adam, class-weighted log loss, backpropagation through time.
 */
export interface SeqRow {
  seq: number[][];
  y: 0 | 1;
}

export interface GruOptions {
  hidden?: number;
  epochs?: number;
  lr?: number;
  seed?: number;
  batch?: number;
}

export function trainGru(
  rows: readonly SeqRow[],
  opts: GruOptions = {},
): (seq: readonly number[][]) => number {
  const H = opts.hidden ?? 8;
  const D = FEATURE_COUNT;
  const epochs = opts.epochs ?? 30;
  const lr = opts.lr ?? 0.01;
  const batch = opts.batch ?? 32;
  const random = seededRandom(opts.seed ?? 20261130);
  // Standardise on every step of every training sequence.
  const steps = rows.flatMap((r) => r.seq.map((x) => ({ x, y: r.y })));
  const { mean, scale } = standardisation(steps.length ? steps : [{ x: new Array(D).fill(0), y: 0 }]);
  const norm = (seq: readonly number[][]) => seq.map((x) => x.map((v, i) => (v - mean[i]!) / scale[i]!));
  // Parameter layout in one array: Wz Wr Wn (H×D), Uz Ur Un (H×H), bz br bnx bnh (H), v (H), c.
  const oW = [0, H * D, 2 * H * D];
  const oU = [3 * H * D, 3 * H * D + H * H, 3 * H * D + 2 * H * H];
  const oB = 3 * H * D + 3 * H * H; // bz, br, bnx, bnh at oB, oB+H, oB+2H, oB+3H
  const oV = oB + 4 * H;
  const oC = oV + H;
  const P = oC + 1;
  const p = new Float64Array(P);
  const lim = (fanIn: number) => Math.sqrt(1 / fanIn);
  for (let i = 0; i < oU[0]!; i++) p[i] = (random() * 2 - 1) * lim(D);
  for (let i = oU[0]!; i < oB; i++) p[i] = (random() * 2 - 1) * lim(H);
  for (let i = oV; i < oC; i++) p[i] = (random() * 2 - 1) * lim(H);
  const m1 = new Float64Array(P);
  const m2 = new Float64Array(P);
  let step = 0;
  const [wNeg, wPos] = classWeights(rows.map((r) => ({ x: [], y: r.y })));
  const sig = (v: number) => 1 / (1 + Math.exp(-v));

  interface Trace {
    x: number[];
    hp: Float64Array;
    z: Float64Array;
    r: Float64Array;
    n: Float64Array;
    hn: Float64Array;
  }
  const forward = (seq: number[][]): { h: Float64Array; trace: Trace[] } => {
    let h = new Float64Array(H);
    const trace: Trace[] = [];
    for (const x of seq) {
      const z = new Float64Array(H);
      const r = new Float64Array(H);
      const n = new Float64Array(H);
      const hn = new Float64Array(H);
      const next = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        let az = p[oB + j]!;
        let ar = p[oB + H + j]!;
        let an = p[oB + 2 * H + j]!;
        let ah = p[oB + 3 * H + j]!;
        for (let i = 0; i < D; i++) {
          az += p[oW[0]! + j * D + i]! * x[i]!;
          ar += p[oW[1]! + j * D + i]! * x[i]!;
          an += p[oW[2]! + j * D + i]! * x[i]!;
        }
        for (let i = 0; i < H; i++) {
          az += p[oU[0]! + j * H + i]! * h[i]!;
          ar += p[oU[1]! + j * H + i]! * h[i]!;
          ah += p[oU[2]! + j * H + i]! * h[i]!;
        }
        z[j] = sig(az);
        r[j] = sig(ar);
        hn[j] = ah;
        n[j] = Math.tanh(an + r[j]! * ah);
        next[j] = (1 - z[j]!) * n[j]! + z[j]! * h[j]!;
      }
      trace.push({ x, hp: h, z, r, n, hn });
      h = next;
    }
    return { h, trace };
  };
  const out = (h: Float64Array) => {
    let s = p[oC]!;
    for (let j = 0; j < H; j++) s += p[oV + j]! * h[j]!;
    return sig(s);
  };

  const data = rows.map((r) => ({ seq: norm(r.seq), y: r.y }));
  const order = data.map((_, i) => i);
  for (let e = 0; e < epochs; e++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let b0 = 0; b0 < order.length; b0 += batch) {
      const g = new Float64Array(P);
      const idx = order.slice(b0, b0 + batch);
      for (const k of idx) {
        const { seq, y } = data[k]!;
        if (seq.length === 0) continue;
        const { h, trace } = forward(seq);
        const pr = out(h);
        const d = (pr - y) * (y ? wPos : wNeg);
        g[oC]! += d;
        let dh = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          g[oV + j]! += d * h[j]!;
          dh[j] = d * p[oV + j]!;
        }
        for (let t = trace.length - 1; t >= 0; t--) {
          const { x, hp, z, r, n, hn } = trace[t]!;
          const dhp = new Float64Array(H);
          const daz = new Float64Array(H);
          const dar = new Float64Array(H);
          const dan = new Float64Array(H);
          const dhn = new Float64Array(H);
          for (let j = 0; j < H; j++) {
            const dn = dh[j]! * (1 - z[j]!);
            const dz = dh[j]! * (hp[j]! - n[j]!);
            dhp[j]! += dh[j]! * z[j]!;
            dan[j] = dn * (1 - n[j]! * n[j]!);
            const dr = dan[j]! * hn[j]!;
            dhn[j] = dan[j]! * r[j]!;
            daz[j] = dz * z[j]! * (1 - z[j]!);
            dar[j] = dr * r[j]! * (1 - r[j]!);
          }
          for (let j = 0; j < H; j++) {
            g[oB + j] = g[oB + j]! + daz[j]!;
            g[oB + H + j] = g[oB + H + j]! + dar[j]!;
            g[oB + 2 * H + j] = g[oB + 2 * H + j]! + dan[j]!;
            g[oB + 3 * H + j] = g[oB + 3 * H + j]! + dhn[j]!;
            for (let i = 0; i < D; i++) {
              g[oW[0]! + j * D + i]! += daz[j]! * x[i]!;
              g[oW[1]! + j * D + i]! += dar[j]! * x[i]!;
              g[oW[2]! + j * D + i]! += dan[j]! * x[i]!;
            }
            for (let i = 0; i < H; i++) {
              g[oU[0]! + j * H + i]! += daz[j]! * hp[i]!;
              g[oU[1]! + j * H + i]! += dar[j]! * hp[i]!;
              g[oU[2]! + j * H + i]! += dhn[j]! * hp[i]!;
              dhp[i]! +=
                p[oU[0]! + j * H + i]! * daz[j]! +
                p[oU[1]! + j * H + i]! * dar[j]! +
                p[oU[2]! + j * H + i]! * dhn[j]!;
            }
          }
          dh = dhp;
        }
      }
      // Adam.
      step++;
      const b1 = 0.9;
      const b2 = 0.999;
      for (let i = 0; i < P; i++) {
        const gi = g[i]! / idx.length;
        m1[i] = b1 * m1[i]! + (1 - b1) * gi;
        m2[i] = b2 * m2[i]! + (1 - b2) * gi * gi;
        const mh = m1[i]! / (1 - b1 ** step);
        const vh = m2[i]! / (1 - b2 ** step);
        p[i] = p[i]! - (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
    }
  }
  return (seq) => (seq.length === 0 ? 0 : out(forward(norm(seq as number[][])).h));
}
