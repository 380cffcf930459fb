// Turns labelled names into weighted training examples.
import { seededRandom, shuffled } from '../../src/detect/ml/dga/rng.ts';
import type { TrainingExample } from '../../src/detect/ml/dga/train.ts';
import type { LabelledName } from './corpus.ts';

/** Per-family cap: the big lists (100k names) would otherwise drown the small families. */
export const FAMILY_CAP = 4000;

/**
 * Each family contributes at most `cap` seeded-sampled labels; the two classes
 * get equal total weight.
 */
export function buildExamples(
  families: ReadonlyMap<string, readonly LabelledName[]>,
  benign: readonly string[],
  seed: number,
  cap: number = FAMILY_CAP,
): TrainingExample[] {
  const random = seededRandom(seed);
  const dga: string[] = [];
  for (const [, names] of families) {
    for (const n of shuffled(names, random).slice(0, cap)) dga.push(n.label);
  }
  const dgaWeight = benign.length / Math.max(1, dga.length);
  return [
    ...benign.map((label): TrainingExample => ({ label, y: 0, weight: 1 })),
    ...dga.map((label): TrainingExample => ({ label, y: 1, weight: dgaWeight })),
  ];
}

/** Stable split of benign labels into (train, calibration) by a seeded shuffle. */
export function splitBenign(labels: readonly string[], share: number, seed: number): [string[], string[]] {
  const s = shuffled([...labels].sort(), seededRandom(seed ^ 0x5bd1e995));
  const cut = Math.round(s.length * (1 - share));
  return [s.slice(0, cut), s.slice(cut)];
}
