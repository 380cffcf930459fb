import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeminerError } from '../../core/errors.ts';
import { margin, parseModel, serializeModel } from './model.ts';
import { centerAt, marginAtFpr, trainDgaModel } from './train.ts';

const benign = ['google', 'facebook', 'wikipedia', 'amazon', 'twitter', 'youtube', 'github', 'reddit'];
const dga = ['xkqjzvbw', 'qwzxkjvb', 'zzkxqjwv', 'vbqxzkjw', 'jqxzvkwb', 'kzqvxbjw', 'wqjzkxvb', 'bxzqkvjw'];
const examples = [
  ...benign.map((label) => ({ label, y: 0 as const, weight: 1 })),
  ...dga.map((label) => ({ label, y: 1 as const, weight: 1 })),
];
const options = { seed: 7, epochs: 20, learningRate: 0.3, hiddenRate: 0.05, l2: 1e-6 };

test('training is reproducible with a seed and separates the toy classes', () => {
  const a = trainDgaModel(examples, options);
  const b = trainDgaModel(examples, options);
  assert.deepEqual(a.weights, b.weights);
  assert.equal(a.bias, b.bias);
  assert.ok(margin(a, 'xqzkjvwb') > margin(a, 'gitface'));
});

test('serialisation round-trips', () => {
  const m = trainDgaModel(examples, options);
  const back = parseModel(serializeModel(m), 'model.json');
  assert.equal(back.bias, m.bias);
  assert.deepEqual(back.weights, m.weights);
  assert.deepEqual(back.lm, m.lm);
});

test('centring puts the chosen false-positive rate at margin 0', () => {
  const m = trainDgaModel(examples, options);
  const centred = centerAt(m, marginAtFpr(m, benign, 0));
  for (const b of benign) assert.ok(margin(centred, b) < 0);
});

test('a damaged model file is rejected with its location', () => {
  assert.throws(
    () => parseModel('{"format":"deminer-dga-wide-deep","version":3}', 'data/dga/model.json'),
    (e: unknown) =>
      e instanceof DeminerError && e.code === 'DGA_BAD_MODEL' && e.location === 'data/dga/model.json',
  );
  assert.throws(
    () => parseModel('not json', 'x.json'),
    (e: unknown) => e instanceof DeminerError,
  );
});
