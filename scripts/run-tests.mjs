// Runs every *.test.ts under src/ and test/ with node's own test runner.
// Node 20 has no glob support in --test, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name === 'fixtures') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = [...walk('src', []), ...walk('test', [])].sort();
if (filter.length > 0) files = files.filter((f) => filter.some((x) => f.includes(x)));
// Files named *.serial.test.ts measure live behaviour (CPU duty cycles of real
// processes) and run alone, after the others, so that no other test competes
// for the CPU while they sample.
const serial = files.filter((f) => f.endsWith('.serial.test.ts'));
const parallel = files.filter((f) => !f.endsWith('.serial.test.ts'));
const concurrency = process.env.DEMINER_TEST_CONCURRENCY ?? '2';
const runBatch = (list, conc) =>
  spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${conc}`, '--test-reporter=spec', ...list],
    {
      stdio: 'inherit',
    },
  ).status ?? 1;
let status = 0;
if (parallel.length > 0) status = runBatch(parallel, concurrency);
if (serial.length > 0) status = runBatch(serial, '1') || status;
process.exit(status);
