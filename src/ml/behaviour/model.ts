import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { dataPath } from '../../core/paths.ts';
import { FEATURE_COUNT, FEATURE_NAMES } from './features.ts';

/**
 * The behaviour model as shipped (data/behaviour/model.json): a small model
 * over the summary features of one process-minute (features.ts), trained by
 * scripts/behaviour/train.ts. Two kinds are supported so the evaluation can
 * ship whichever does best on held-out workloads: a logistic model and a
 * boosted ensemble of depth-one trees (stumps). Scoring is a few dozen
 * multiplications per process.
 */

const num = () => z.number().finite();

const StumpSchema = z.strictObject({ f: z.number().int().min(0), t: num(), l: num(), r: num() });

export const BehaviourModelSchema = z.strictObject({
  format: z.literal('deminer-behaviour-model'),
  version: z.literal(1),
  kind: z.enum(['logistic', 'stumps']),
  features: z.array(z.string()).length(FEATURE_COUNT),
  /** Standardisation (logistic): z = (x - mean) / scale. */
  mean: z.array(num()).length(FEATURE_COUNT),
  scale: z.array(num().positive()).length(FEATURE_COUNT),
  weights: z.array(num()).max(FEATURE_COUNT),
  bias: num(),
  stumps: z.array(StumpSchema).max(10_000),
  /** Scores at or above this are "behaves like a miner" (chosen on training data at the target false-positive rate). */
  threshold: num(),
  /**
   * A logistic model over the features a snapshot without a behaviour series
   * still has (CPU per interval, RSS, threads: CPU_ONLY_FEATURES), for
   * snapshots taken without sampling (an older agent, a short window).
   */
  cpuOnly: z
    .strictObject({
      mean: z.array(num()).length(FEATURE_COUNT),
      scale: z.array(num().positive()).length(FEATURE_COUNT),
      weights: z.array(num()).length(FEATURE_COUNT),
      bias: num(),
      threshold: num(),
    })
    .optional(),
  provenance: z.record(z.string(), z.unknown()),
});
export type BehaviourModel = z.infer<typeof BehaviourModelSchema>;

export function parseBehaviourModel(json: unknown): BehaviourModel {
  const m = BehaviourModelSchema.parse(json);
  if (m.features.some((f, i) => f !== FEATURE_NAMES[i]))
    throw new Error('behaviour model: its features do not match this version of deminer');
  if (m.stumps.some((s) => s.f >= FEATURE_COUNT))
    throw new Error('behaviour model: stump on unknown feature');
  return m;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The raw margin (log-odds) of a feature vector. */
export function margin(m: BehaviourModel, x: readonly number[]): number {
  if (m.kind === 'logistic') {
    let s = m.bias;
    for (let i = 0; i < m.weights.length; i++)
      s += m.weights[i]! * (((x[i] ?? 0) - m.mean[i]!) / m.scale[i]!);
    return s;
  }
  let s = m.bias;
  for (const st of m.stumps) s += (x[st.f] ?? 0) <= st.t ? st.l : st.r;
  return s;
}

/** The features a process without a behaviour series still has (see cpuProfileFeatures). */
export const CPU_ONLY_FEATURES: readonly number[] = [0, 1, 2, 9, 11];

/** 0..1 from the CPU-only model, or undefined when the model has none. */
export function scoreCpuOnly(m: BehaviourModel, x: readonly number[]): number | undefined {
  const c = m.cpuOnly;
  if (!c) return undefined;
  let s = c.bias;
  for (const i of CPU_ONLY_FEATURES) s += c.weights[i]! * (((x[i] ?? 0) - c.mean[i]!) / c.scale[i]!);
  return sigmoid(s);
}

/** 0..1, higher is more miner-like. */
export function score(m: BehaviourModel, x: readonly number[]): number {
  return sigmoid(margin(m, x));
}

export interface Contribution {
  feature: string;
  value: number;
  /** Log-odds this feature added, relative to an average process. */
  push: number;
}

/** The features that pushed this score up the most. */
export function topContributions(m: BehaviourModel, x: readonly number[], k = 3): Contribution[] {
  const push = new Array<number>(FEATURE_COUNT).fill(0);
  if (m.kind === 'logistic') {
    for (let i = 0; i < m.weights.length; i++)
      push[i] = m.weights[i]! * (((x[i] ?? 0) - m.mean[i]!) / m.scale[i]!);
  } else {
    // A stump's push: its leaf minus the average of its two leaves.
    for (const st of m.stumps) push[st.f]! += ((x[st.f] ?? 0) <= st.t ? st.l : st.r) - (st.l + st.r) / 2;
  }
  return push
    .map((p, i) => ({ feature: FEATURE_NAMES[i]!, value: round3(x[i] ?? 0), push: round3(p) }))
    .filter((c) => c.push > 0)
    .sort((a, b) => b.push - a.push)
    .slice(0, k);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

let shipped: BehaviourModel | undefined;

/** The model shipped with deminer (read once). */
export function shippedBehaviourModel(): BehaviourModel {
  if (!shipped) {
    shipped = parseBehaviourModel(JSON.parse(readFileSync(dataPath('behaviour', 'model.json'), 'utf8')));
  }
  return shipped;
}
