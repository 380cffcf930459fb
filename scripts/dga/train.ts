// Trains the shipped DGA model (npm run train:dga [-- --seed N] [-- --out FILE]).
//
// Every DGA family and every benign source in ../shared/corpora/dga is used;
// 15 % of the benign labels are held out to place the decision threshold at
// 0.3 % false positives, and the bias is moved so that this point is score
// 0.5 (DGA_THRESHOLD). Same corpus + same seed = byte-identical weights.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDynamicDnsSuffixes } from '../../src/ml/dga/index.ts';
import { margin, serializeModel } from '../../src/ml/dga/model.ts';
import { centerAt, DEFAULT_TRAIN_OPTIONS, marginAtFpr, trainDgaModel } from '../../src/ml/dga/train.ts';
import { CORPUS_DIR, corpusAvailable, loadCorpus } from './corpus.ts';
import { buildExamples, FAMILY_CAP, splitBenign } from './dataset.ts';

const TARGET_FPR = 0.003;

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
  const out = arg('--out', fileURLToPath(new URL('../../data/dga/model.json', import.meta.url)));
  const started = performance.now();
  const suffixes = loadDynamicDnsSuffixes();
  const corpus = loadCorpus(suffixes);
  const benignAll = [...new Set([...corpus.benign.values()].flat().map((b) => b.label))];
  const [trainBenign, calib] = splitBenign(benignAll, 0.15, seed);
  const examples = buildExamples(corpus.families, trainBenign, seed);
  const options = { ...DEFAULT_TRAIN_OPTIONS, seed };
  const raw = trainDgaModel(examples, options);
  const threshold = marginAtFpr(raw, calib, TARGET_FPR);
  const model = centerAt(raw, threshold);
  const calibFp = calib.filter((l) => margin(model, l) >= 0).length;
  model.meta = {
    trainer: 'scripts/dga/train.ts',
    options,
    targetFpr: TARGET_FPR,
    calibration: { benignLabels: calib.length, falsePositives: calibFp },
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
      `${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

main();
