import type { DgaModel } from './model.ts';
import { margin, sigmoid } from './model.ts';
import { type NormalizedName, normalizeName, type SuffixSet } from './normalize.ts';

/**
 * Scores at or above this are DGA-like. The training script moves the model's
 * bias so that this point keeps both calibration budgets (scripts/dga/train.ts).
 */
export const DGA_THRESHOLD = 0.5;

export interface DgaScore {
  /** The name as given. */
  domain: string;
  /** 0..1, higher is more DGA-like. */
  score: number;
  dga: boolean;
  /** What was scored: the registrable label, or why nothing was. */
  kind: NormalizedName['kind'];
  label?: string;
}

/** A model plus the dynamic-DNS suffixes it was trained with. */
export class DgaScorer {
  constructor(
    readonly model: DgaModel,
    readonly dynamicDns: SuffixSet,
    readonly threshold: number = DGA_THRESHOLD,
  ) {}

  /** 0..1; throws `DGA_EMPTY_NAME` on an empty name. */
  score(name: string): number {
    const n = normalizeName(name, this.dynamicDns);
    return n.kind === 'label' ? sigmoid(margin(this.model, n.label)) : 0;
  }

  explain(name: string): DgaScore {
    const n = normalizeName(name, this.dynamicDns);
    // IP literals and reverse-DNS names are not generated; non-Latin labels are outside what the model saw.
    const score = n.kind === 'label' ? sigmoid(margin(this.model, n.label)) : 0;
    const out: DgaScore = { domain: name, score, dga: score >= this.threshold, kind: n.kind };
    if (n.kind === 'label' || n.kind === 'non-latin') out.label = n.label;
    return out;
  }
}
