import { readFileSync } from 'node:fs';
import { dataPath } from '../../core/paths.ts';
import { parseModel } from './model.ts';
import { parseSuffixList } from './normalize.ts';
import { DGA_THRESHOLD, type DgaScore, DgaScorer } from './scorer.ts';

export { DGA_THRESHOLD, type DgaScore, DgaScorer };

const MODEL_PATH = dataPath('dga', 'model.json');
const SUFFIXES_PATH = dataPath('dga', 'dynamic-dns-suffixes.txt');

let shipped: DgaScorer | undefined;

/** The shipped model, read from `data/dga/` on first use. */
export function shippedScorer(): DgaScorer {
  if (shipped === undefined) {
    const modelPath = MODEL_PATH;
    const model = parseModel(readFileSync(modelPath, 'utf8'), modelPath);
    shipped = new DgaScorer(model, loadDynamicDnsSuffixes());
  }
  return shipped;
}

export function loadDynamicDnsSuffixes(): Set<string> {
  return parseSuffixList(readFileSync(SUFFIXES_PATH, 'utf8'));
}

/**
 * How DGA-like a DNS name is, 0..1 (higher = more). Scores the registrable
 * label; IP literals and reverse-DNS names score 0. Throws a `DeminerError`
 * with code `DGA_EMPTY_NAME` for an empty name.
 */
export function scoreDomain(name: string): number {
  return shippedScorer().score(name);
}

/**
 * `scoreDomain(name) >= DGA_THRESHOLD`: at most 0.3 % false positives on benign
 * names the model never saw (docs/dga.md, "Calibration"); one name is a lead,
 * the host-level rule (`deminer.network.dga_host`) is the decision.
 */
export function isDga(name: string): boolean {
  return shippedScorer().score(name) >= DGA_THRESHOLD;
}

/** Score plus what was scored, for reports. */
export function explainDomain(name: string): DgaScore {
  return shippedScorer().explain(name);
}
