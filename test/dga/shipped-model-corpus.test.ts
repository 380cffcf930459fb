// Regression check of the shipped model against the development corpus
// (bounded samples). The family-split figures come from `npm run eval:dga`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isDga } from '../../src/ml/dga/index.ts';

const CORPUS = fileURLToPath(new URL('../../../shared/corpora/dga', import.meta.url));
const SAMPLE = 2000;

function lines(rel: string): string[] {
  return readFileSync(`${CORPUS}/${rel}`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .slice(0, SAMPLE);
}

test('shipped model on corpus samples', (t) => {
  if (!existsSync(`${CORPUS}/SOURCES.txt`)) {
    t.skip('corpus ../shared/corpora/dga not present');
    return;
  }
  const tranco = (
    JSON.parse(readFileSync(`${CORPUS}/benign-misp-warninglists/tranco10k.json`, 'utf8')) as {
      list: string[];
    }
  ).list.slice(0, SAMPLE);
  const fp = tranco.filter(isDga).length / tranco.length;
  assert.ok(fp <= 0.01, `tranco false positives ${fp}`);
  // The threshold sits at 0.3 % false positives on benign lists never trained on since issue 18
  // (docs/dga.md, "Calibration"), stricter than before: cryptolocker went from 94 % to 83 % of these
  // names, ramdo from 98 % to 90 %, so their floors are 0.8 and 0.85 (were 0.9).
  for (const [file, min] of [
    ['andrewaeva-DGA/dga_wordlists/cryptolocker.txt', 0.8],
    ['andrewaeva-DGA/dga_wordlists/ramdo.txt', 0.85],
    ['baderj-dga/newgoz/example_domains.txt', 0.95],
  ] as const) {
    const names = lines(file);
    const tpr = names.filter(isDga).length / names.length;
    assert.ok(tpr >= min, `${file}: detected ${tpr}`);
  }
});
