// Writes test/dga/fixtures/heldout-benign.txt: a fixed sample of the benign
// labels the shipped model is never trained on (Tranco's own labels, see
// SHIPPED_HELD_OUT_SOURCE in scripts/dga/corpus.ts), for the calibration test
// (node --import tsx scripts/dga/heldout-fixture.ts). The sample is drawn by a
// hash of the label, not by score, so it is a fair draw from that set.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadDynamicDnsSuffixes } from '../../src/ml/dga/index.ts';
import { CORPUS_DIR, corpusAvailable, fnv1a, loadCorpus, shippedHeldOutBenign } from './corpus.ts';

const SIZE = 2000;
const OUT = fileURLToPath(new URL('../../test/dga/fixtures/heldout-benign.txt', import.meta.url));

function main(): void {
  if (!corpusAvailable()) {
    process.stderr.write(`corpus not found at ${CORPUS_DIR}\n`);
    process.exit(2);
  }
  const { check } = shippedHeldOutBenign(loadCorpus(loadDynamicDnsSuffixes()));
  const picked = check
    .map((x) => ({ x, h: fnv1a(`sample:${x.label}`) }))
    .sort((a, b) => a.h - b.h || a.x.label.localeCompare(b.x.label))
    .slice(0, SIZE)
    .map((p) => p.x.name)
    .sort();
  const header = [
    '# Benign names the shipped DGA model was never trained on and whose threshold was not placed on them:',
    `# ${picked.length} of the ${check.length} Tranco labels that no training benign list holds, drawn by hash`,
    '# (FNV-1a of "sample:" + label, lowest first), not by score. Source: Tranco top 10k as published in',
    '# MISP/misp-warninglists lists/tranco10k/list.json @ 84f0610aaf3b32159285c9b85510d0f415ea6b27 (CC0-1.0).',
    '# Regenerate: node --import tsx scripts/dga/heldout-fixture.ts',
  ];
  writeFileSync(OUT, `${[...header, ...picked].join('\n')}\n`);
  process.stderr.write(`wrote ${OUT}: ${picked.length} names of ${check.length}\n`);
}

main();
