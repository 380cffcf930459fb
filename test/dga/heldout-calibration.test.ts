// The default DGA threshold against benign names the model never saw: neither
// fitted on nor used to place the threshold (docs/dga.md, "Calibration").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isDga } from '../../src/ml/dga/index.ts';

const BUDGET = 0.003;
const fixture = fileURLToPath(new URL('./fixtures/heldout-benign.txt', import.meta.url));
const model = fileURLToPath(new URL('../../data/dga/model.json', import.meta.url));

test('the shipped threshold flags at most 0.3 % of a held-out benign sample', () => {
  const names = readFileSync(fixture, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  assert.ok(names.length >= 1000, `${names.length} names`);
  const flagged = names.filter((n) => isDga(n));
  assert.ok(
    flagged.length <= Math.floor(names.length * BUDGET),
    `${flagged.length} of ${names.length} flagged: ${flagged.join(' ')}`,
  );
});

test('the model file records its held-out check within the budget', () => {
  const meta = (
    JSON.parse(readFileSync(model, 'utf8')) as {
      meta: { heldOut?: { benignLabels: number; falsePositives: number } };
    }
  ).meta;
  const check = meta.heldOut;
  assert.ok(check, 'meta.heldOut missing: retrain with scripts/dga/train.ts');
  assert.ok(check.benignLabels >= 1000, JSON.stringify(check));
  assert.ok(check.falsePositives / check.benignLabels <= BUDGET, JSON.stringify(check));
});
