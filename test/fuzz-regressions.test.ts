// Replays every kept fuzz input through its target: crashes the fuzzers found
// (test/fixtures/fuzz/<target>/) and the seed corpora (fuzz/seeds/<target>/),
// so a fixed parser bug cannot come back and the seeds' edge cases stay covered.
// The targets are the same functions the fuzzer runs; no fuzzing happens here.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { readInputs } from '../fuzz/corpus.ts';
import { TARGETS } from '../fuzz/targets/index.ts';

const root = join(import.meta.dirname, '..');
const REGRESSIONS = join(root, 'test', 'fixtures', 'fuzz');

/**
 * Inputs of bugs found but not fixed yet: replayed as todo tests, so the run
 * shows them without failing. Remove a name once its parser is fixed.
 */
const OPEN_BUGS: Readonly<Record<string, string>> = {};

describe('fuzz regression inputs', () => {
  test('every regression folder names a known target', () => {
    const folders = existsSync(REGRESSIONS) ? readdirSync(REGRESSIONS) : [];
    for (const f of folders.filter((f) => !f.includes('.')))
      assert.ok(TARGETS[f], `unknown target folder ${f}`);
  });

  for (const [name, target] of Object.entries(TARGETS)) {
    test(`${name}: kept inputs parse without an unexpected exception`, async () => {
      const inputs = readInputs([join(root, 'fuzz', 'seeds', name), join(REGRESSIONS, name)]);
      assert.ok(inputs.length > 0, `no seeds for ${name}`);
      for (const { file, data } of inputs.filter((i) => OPEN_BUGS[basename(i.file)] === undefined)) {
        // The target already lets DeminerError/UsageError through as an expected refusal; anything thrown here is a bug.
        await assert.doesNotReject(async () => target(data), `${file} threw`);
      }
    });
  }

  for (const [name, target] of Object.entries(TARGETS)) {
    for (const { file, data } of readInputs([join(REGRESSIONS, name)])) {
      const bug = OPEN_BUGS[basename(file)];
      if (bug === undefined) continue;
      test(`${name}: ${basename(file)}`, { todo: bug }, async () => {
        await assert.doesNotReject(async () => target(data));
      });
    }
  }
});
