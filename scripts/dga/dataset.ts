// Turns labelled names into weighted training examples.
import { seededRandom, shuffled } from '../../src/core/random.ts';
import type { DgaModel } from '../../src/ml/dga/model.ts';
import { marginAtFpr, type TrainingExample } from '../../src/ml/dga/train.ts';
import type { LabelledName } from './corpus.ts';

/** Per-family cap: the big lists (100k names) would otherwise drown the small families. */
export const FAMILY_CAP = 4000;

/**
 * Each family contributes at most `cap` seeded-sampled labels and the same
 * total weight, whatever its size: unseen families resemble the many small
 * families more than the few big lists. The two classes get equal total weight.
 */
export function buildExamples(
  families: ReadonlyMap<string, readonly LabelledName[]>,
  benign: readonly string[],
  seed: number,
  cap: number = FAMILY_CAP,
): TrainingExample[] {
  const random = seededRandom(seed);
  const dga: { label: string; w: number }[] = [];
  for (const [, names] of families) {
    const picked = shuffled(names, random).slice(0, cap);
    const w = 1 / picked.length;
    for (const n of picked) dga.push({ label: n.label, w });
  }
  const total = dga.reduce((a, d) => a + d.w, 0);
  const scale = benign.length / Math.max(1e-9, total);
  return [
    ...benign.map((label): TrainingExample => ({ label, y: 0, weight: 1 })),
    ...dga.map((d): TrainingExample => ({ label: d.label, y: 1, weight: d.w * scale })),
  ];
}

/** Stable split of benign labels into (train, calibration) by a seeded shuffle. */
export function splitBenign(labels: readonly string[], share: number, seed: number): [string[], string[]] {
  const s = shuffled([...labels].sort(), seededRandom(seed ^ 0x5bd1e995));
  const cut = Math.round(s.length * (1 - share));
  return [s.slice(0, cut), s.slice(cut)];
}

/**
 * Share of the calibration slice (15 % of the training lists' labels, not
 * fitted on) allowed at score >= 0.5. Chosen with `npm run eval:dga --
 * --slice-fpr X` so that benign lists never trained on come out at <= 0.3 %
 * (docs/dga.md, "Calibration"): a slice of the training lists looks more
 * like the training data than a new list does, so it needs a stricter target.
 */
export const SLICE_TARGET_FPR = 0.001;

/** The margin that becomes score 0.5: at most `fpr` of the slice's labels lie at or above it. */
export function thresholdMargin(model: DgaModel, slice: readonly string[], fpr = SLICE_TARGET_FPR): number {
  return marginAtFpr(model, slice, fpr);
}
