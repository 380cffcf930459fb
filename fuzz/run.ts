/**
 * Runs fuzz targets for a bounded time each, one after another (one core),
 * guided by V8's block coverage of `src/`; or minimises one failing input.
 *
 *   node --import tsx fuzz/run.ts [TARGET…] [--seconds 20] [--timeout-ms 10000] [--out DIR] [--seed N]
 *        [--skip TARGET]… [--runs N] [--no-coverage] [--batch N] [--minimise-seconds 20]
 *   node --import tsx fuzz/run.ts --minimise TARGET FILE [--minimise-seconds 60]   (or --minimize)
 *
 * Exits 1 when a target threw an unexpected exception, hung past the timeout
 * or ran out of memory; the input is written to DIR/<target>/, minimised
 * beside it (`.min`), and both paths printed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { inputDirs } from './corpus.ts';
import { fuzzTarget, regressionHint } from './engine.ts';
import { describeFailure } from './failure.ts';
import { isTargetFile } from './load-target.ts';
import { minimiseInput } from './minimise.ts';
import { TARGETS } from './targets/index.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '20' },
    'timeout-ms': { type: 'string', default: '10000' },
    out: { type: 'string', default: join(tmpdir(), 'deminer-fuzz-crashes') },
    seed: { type: 'string' },
    'max-len': { type: 'string', default: String(128 * 1024) },
    skip: { type: 'string', multiple: true, default: [] },
    runs: { type: 'string', default: '0' },
    'no-coverage': { type: 'boolean', default: false },
    batch: { type: 'string', default: '0' },
    minimise: { type: 'boolean', default: false },
    minimize: { type: 'boolean', default: false },
    'minimise-seconds': { type: 'string' },
  },
});
const timeoutMs = Number(values['timeout-ms']);

function checkTarget(n: string): void {
  if (TARGETS[n] || (isTargetFile(n) && existsSync(n))) return;
  console.error(`unknown target ${n}; known: ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}

if (values.minimise || values.minimize) {
  const [target, file] = positionals;
  if (target === undefined || file === undefined || positionals.length !== 2) {
    console.error('usage: node --import tsx fuzz/run.ts --minimise TARGET FILE');
    process.exit(2);
  }
  checkTarget(target);
  const input = readFileSync(file);
  const seconds = Number(values['minimise-seconds'] ?? 60);
  const m = await minimiseInput(target, input, { timeoutMs, seconds });
  if (m.failure === undefined) {
    console.log(`${file} does not fail on ${target}: nothing to minimise`);
    process.exit(1);
  }
  const out = `${file}.min`;
  writeFileSync(out, m.input);
  console.log(`${target}: ${describeFailure(m.failure)}`);
  console.log(
    `minimised ${input.length} -> ${m.input.length} bytes in ${m.tries} tries` +
      `${m.outOfTime ? ` (stopped at the ${seconds} s budget)` : ''}: ${out}`,
  );
  const hint = regressionHint(target, out);
  if (hint) console.log(hint);
  process.exit(0);
}

const all = positionals.length > 0 ? positionals : Object.keys(TARGETS);
// --skip keeps CI green on a target whose known bug is not fixed yet, without dropping the others.
const names = all.filter((n) => !values.skip.includes(n));
for (const n of names) checkTarget(n);
const srcUrl = `${pathToFileURL(join(root, 'src')).href}/`;

let failed = 0;
for (const target of names) {
  const r = await fuzzTarget({
    target,
    seedDirs: isTargetFile(target) ? [] : inputDirs(root, target),
    seconds: Number(values.seconds),
    runs: Number(values.runs),
    seed: values.seed !== undefined ? Number(values.seed) : (Date.now() ^ process.pid) >>> 0,
    maxLen: Number(values['max-len']),
    timeoutMs,
    // A target given as a file (a synthetic one) has its own blocks counted too.
    coverInclude: values['no-coverage']
      ? []
      : isTargetFile(target)
        ? [srcUrl, pathToFileURL(resolve(target)).href]
        : [srcUrl],
    batch: Number(values.batch),
    out: resolve(values.out),
    minimiseSeconds: Number(values['minimise-seconds'] ?? 20),
  });
  if (!r.ok) failed++;
}
process.exit(failed > 0 ? 1 : 0);
