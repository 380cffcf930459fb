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

/**
 * A condition every miner-minute meets for a physical reason, written by the
 * training script with that reason: a process-minute outside it scores 0
 * whatever the learned part says. Proof-of-work hashing is compute in user
 * space; a process that spends a fifth of its CPU time in the kernel, or
 * gives up the CPU thousands of times per CPU-second, is waiting on I/O or
 * on other processes (a database, a benchmark client), not hashing.
 */
const GateSchema = z.strictObject({
  feature: z.string(),
  min: num().optional(),
  max: num().optional(),
  why: z.string().max(500),
});
export type BehaviourGate = z.infer<typeof GateSchema>;

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
  /** Conditions on the features that the learned part is applied under (absent: none). */
  gates: z.array(GateSchema).max(16).optional(),
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
  for (const g of m.gates ?? [])
    if (!FEATURE_NAMES.includes(g.feature as (typeof FEATURE_NAMES)[number]))
      throw new Error(`behaviour model: gate on unknown feature ${g.feature}`);
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

/** The first gate this feature vector fails, or undefined when it meets them all. */
export function failedGate(
  m: Pick<BehaviourModel, 'gates'>,
  x: readonly number[],
): BehaviourGate | undefined {
  for (const g of m.gates ?? []) {
    const v = x[FEATURE_NAMES.indexOf(g.feature as (typeof FEATURE_NAMES)[number])] ?? 0;
    if ((g.min !== undefined && v < g.min) || (g.max !== undefined && v > g.max)) return g;
  }
  return undefined;
}

/** 0..1, higher is more miner-like; 0 outside the model's gates. */
export function score(m: BehaviourModel, x: readonly number[]): number {
  if (m.gates && failedGate(m, x)) return 0;
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
