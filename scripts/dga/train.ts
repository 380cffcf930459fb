// Trains the shipped DGA model (npm run train:dga [-- --seed N] [-- --out FILE]).
//
// Every DGA family and the benign training sources in ../shared/corpora/dga
// are used, except the labels only Tranco holds: those are never trained on
// and check the threshold (meta.heldOut; test/dga/fixtures/heldout-benign.txt
// is a sample of them). 15 % of the training benign labels are kept out of
// fitting to place the threshold: the bias is moved so that at most
// SLICE_TARGET_FPR of them score >= 0.5 (DGA_THRESHOLD), a target chosen with
// the family/source-split evaluation (docs/dga.md, "Calibration").
// Same corpus + same seed = byte-identical weights.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDynamicDnsSuffixes } from '../../src/ml/dga/index.ts';
import { margin, serializeModel } from '../../src/ml/dga/model.ts';
import { centerAt, DEFAULT_TRAIN_OPTIONS, trainDgaModel } from '../../src/ml/dga/train.ts';
import {
  BENIGN_SOURCES,
  CORPUS_DIR,
  corpusAvailable,
  HELD_OUT_BENIGN_SOURCES,
  loadCorpus,
  loadHeldOutBenign,
  SHIPPED_HELD_OUT_SOURCE,
  shippedHeldOutBenign,
} from './corpus.ts';
import { buildExamples, FAMILY_CAP, SLICE_TARGET_FPR, splitBenign, thresholdMargin } from './dataset.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function main(): void {
  if (!corpusAvailable()) {
    process.stderr.write(`corpus not found at ${CORPUS_DIR}: cannot train\n`);
    process.exit(2);
  }
  const seed = Number(arg('--seed', '1'));
  const sliceFpr = Number(arg('--slice-fpr', String(SLICE_TARGET_FPR)));
  const out = arg('--out', fileURLToPath(new URL('../../data/dga/model.json', import.meta.url)));
  const started = performance.now();
  const suffixes = loadDynamicDnsSuffixes();
  const corpus = loadCorpus(suffixes);
  const { training: benignAll, check } = shippedHeldOutBenign(corpus);
  const [trainBenign, calib] = splitBenign(benignAll, 0.15, seed);
  const examples = buildExamples(corpus.families, trainBenign, seed);
  const options = { ...DEFAULT_TRAIN_OPTIONS, seed };
  const raw = trainDgaModel(examples, options);
  const model = centerAt(raw, thresholdMargin(raw, calib, sliceFpr));
  const flagged = (labels: readonly string[]): number => labels.filter((l) => margin(model, l) >= 0).length;
  const calibFp = flagged(calib);
  const checkLabels = check.map((b) => b.label);
  const checkFp = flagged(checkLabels);
  const queryVolume = loadHeldOutBenign(corpus, suffixes);
  const queryVolumeLabels = [...queryVolume.calibration, ...queryVolume.test].map((b) => b.label);
  model.meta = {
    trainer: 'scripts/dga/train.ts',
    options,
    targetFpr: sliceFpr,
    calibration: { benignLabels: calib.length, falsePositives: calibFp },
    heldOut: {
      source: SHIPPED_HELD_OUT_SOURCE,
      files: BENIGN_SOURCES[SHIPPED_HELD_OUT_SOURCE],
      note: 'labels of this source that no training source holds: never fitted on, never used to place the threshold',
      benignLabels: checkLabels.length,
      falsePositives: checkFp,
    },
    queryVolumeLists: {
      note: 'never trained on, but they hold real DGA names queried by infected clients: reference only',
      files: Object.values(HELD_OUT_BENIGN_SOURCES)
        .flat()
        .map((f) => ({ file: f, sha256: sha256(join(CORPUS_DIR, f)) })),
      labels: queryVolumeLabels.length,
      flagged: flagged(queryVolumeLabels),
    },
    training: {
      benignLabels: trainBenign.length,
      dgaLabels: examples.length - trainBenign.length,
      familyCap: FAMILY_CAP,
      families: Object.fromEntries([...corpus.families].map(([f, n]) => [f, n.length])),
      benignSources: Object.fromEntries([...corpus.benign].map(([g, n]) => [g, n.length])),
      conflictsDropped: corpus.conflicts,
    },
    corpus: corpus.files.map((f) => ({ file: f, sha256: sha256(join(CORPUS_DIR, f)) })),
  };
  writeFileSync(out, serializeModel(model));
  process.stderr.write(
    `wrote ${out}: ${examples.length} examples, calibration FP ${calibFp}/${calib.length}, ` +
      `held-out ${SHIPPED_HELD_OUT_SOURCE} FP ${checkFp}/${checkLabels.length}, ` +
      `query-volume lists flagged ${flagged(queryVolumeLabels)}/${queryVolumeLabels.length}, ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

main();
