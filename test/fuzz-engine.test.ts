// The fuzzer itself (fuzz/): coverage guidance must find what blind mutation
// cannot, and the minimiser must shrink a failing input to the bytes that
// matter without turning it into a different failure. The targets are
// synthetic (test/fixtures/fuzz-engine/), so the outcome does not depend on
// the parsers under src/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type FuzzOptions, fuzzTarget } from '../fuzz/engine.ts';
import { deltaDebug } from '../fuzz/minimise.ts';
import { Rng } from '../fuzz/mutate.ts';

const root = join(import.meta.dirname, '..');
const fixtures = join(root, 'test', 'fixtures', 'fuzz-engine');
const NESTED = join(fixtures, 'nested-bytes.ts');
const CONTAINS = join(fixtures, 'contains-fuzz.ts');
const out = mkdtempSync(join(tmpdir(), 'deminer-fuzz-engine-'));
after(() => rmSync(out, { recursive: true, force: true }));

describe('fuzz engine', () => {
  test('coverage guidance finds a crash behind four nested byte checks; blind mutation does not', async () => {
    const lines: string[] = [];
    // A fixed seed and batch make both runs repeatable; the run count, not the clock, bounds them.
    const common: Omit<FuzzOptions, 'coverInclude' | 'minimiseSeconds'> = {
      target: NESTED,
      seedDirs: [],
      seconds: 60,
      runs: 200_000,
      seed: 1,
      maxLen: 4096,
      timeoutMs: 10_000,
      batch: 64,
      out,
      log: (l) => lines.push(l),
    };
    const blind = await fuzzTarget({ ...common, coverInclude: [], minimiseSeconds: 0 });
    assert.equal(blind.ok, true, lines.join('\n'));
    assert.equal(blind.stats?.runs, 200_000);

    const guided = await fuzzTarget({
      ...common,
      coverInclude: [pathToFileURL(NESTED).href],
      minimiseSeconds: 10,
    });
    assert.equal(guided.ok, false, `not found with coverage:\n${lines.join('\n')}`);
    assert.equal(guided.failure?.kind, 'crash');
    assert.equal(guided.failure.signature, 'TypeError: FUZZ reached');
    assert.ok((guided.runsBeforeFailure ?? Infinity) < 200_000);
    // Found with whatever the mutations left around it, then minimised automatically to the four bytes checked.
    assert.equal(Buffer.from(guided.minimisedInput ?? []).toString('latin1'), 'FUZZ');
    assert.equal(readFileSync(guided.minimisedFile!, 'latin1'), 'FUZZ');
    assert.ok(
      lines.some((l) => l.includes('minimised to 4 bytes')),
      lines.join('\n'),
    );
  });

  test('--minimize shrinks a padded crashing input to the bytes that matter, keeping the same failure', async () => {
    const rng = new Rng(7);
    const pad = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => 0x61 + rng.below(20)));
    const file = join(out, 'padded');
    writeFileSync(file, Buffer.concat([pad(1500), Buffer.from('FUZZ'), pad(1500)]));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'fuzz', 'run.ts'),
        '--minimize',
        CONTAINS,
        file,
        '--minimise-seconds',
        '30',
      ],
      { cwd: root },
    );
    const min = readFileSync(`${file}.min`);
    // Under 8 bytes the target fails with a RangeError instead: a different failure, so not a valid reduction.
    assert.equal(min.length, 8, stdout);
    assert.ok(min.includes('FUZZ'), stdout);
    assert.match(stdout, /TypeError: FUZZ found/);
    assert.match(stdout, /3004 -> 8 bytes/);
  });

  test('delta debugging keeps a removal only when the failure still reproduces', async () => {
    const input = Buffer.from('xxxxAxxxxxxxBxxxxxxxxxxxxxCxxx');
    const needs = (c: Uint8Array): Promise<boolean> => {
      const s = Buffer.from(c).toString('latin1');
      return Promise.resolve(s.includes('A') && s.includes('B') && s.includes('C'));
    };
    const min = await deltaDebug(input, needs, Date.now() + 10_000);
    assert.equal(Buffer.from(min).toString('latin1'), 'ABC');
    assert.equal(
      Buffer.from(input).toString('latin1'),
      'xxxxAxxxxxxxBxxxxxxxxxxxxxCxxx',
      'input left as it was',
    );
    // Out of time at once: the input comes back whole.
    assert.equal((await deltaDebug(input, needs, Date.now() - 1)).length, input.length);
  });
});
