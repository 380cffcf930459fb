// Runs every *.test.ts under src/ and test/ with node's own test runner.
// Node 20 has no glob support in --test, so the files are listed here.
import { spawn } from 'node:child_process';
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
const totals = { tests: 0, pass: 0, fail: 0, skipped: 0 };

/** Runs one batch, streaming its report and adding its summary lines to the totals. */
function runBatch(list, conc) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', `--test-concurrency=${conc}`, '--test-reporter=spec', ...list],
      { stdio: ['inherit', 'pipe', 'inherit'] },
    );
    let tail = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      tail = (tail + d.toString()).slice(-4000);
    });
    child.on('close', (code) => {
      for (const key of Object.keys(totals)) {
        const m = new RegExp(`^ℹ ${key} (\\d+)$`, 'm').exec(tail);
        if (m) totals[key] += Number(m[1]);
      }
      resolve(code ?? 1);
    });
  });
}

let status = 0;
if (parallel.length > 0) status = await runBatch(parallel, concurrency);
if (serial.length > 0) status = (await runBatch(serial, '1')) || status;
// Both batches in one line, for readers that only look at the end.
process.stdout.write(`\nTotal: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped\n`);
process.exit(status);
