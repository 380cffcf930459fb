/**
 * The shipped weights are rebuilt from the committed recordings: the same
 * recordings, the same training, the same numbers (npm run train:behaviour
 * rewrites data/behaviour/model.json byte for byte).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildRows, loadRecordings } from '../../scripts/behaviour/dataset.ts';
import { buildShippedModel, REC_DIR } from '../../scripts/behaviour/evaluate.ts';
import { parseBehaviourModel } from '../../src/ml/behaviour/model.ts';
import { REPO } from '../sim/harness.ts';

test('training on the committed recordings gives the shipped weights', () => {
  const shipped = parseBehaviourModel(
    JSON.parse(readFileSync(join(REPO, 'data/behaviour/model.json'), 'utf8')),
  );
  const recs = shipped.provenance['recordings'] as { file: string; sha256: string }[];
  for (const r of recs) {
    const sum = createHash('sha256')
      .update(readFileSync(join(REC_DIR, r.file)))
      .digest('hex');
    assert.equal(sum, r.sha256, `${r.file} is the recording the model was trained on`);
  }
  assert.equal(shipped.kind === 'logistic' || shipped.kind === 'stumps', true);
  const learner = (shipped.provenance['learner'] as string | undefined) ?? shipped.kind;
  const rebuilt = buildShippedModel(buildRows(loadRecordings(REC_DIR)), learner, {});
  const { provenance: _a, ...want } = shipped;
  const { provenance: _b, ...got } = rebuilt;
  assert.deepEqual(JSON.parse(JSON.stringify(got)), JSON.parse(JSON.stringify(want)));
});
