/**
 * `deminer up` cold start: from the command to the first `GET
 * /api/v1/health` answered 200, on a fresh data folder each run (the store
 * is created and migrated, the admin token made), with and without the
 * local agent. The reference in the same run is `deminer --version`: the
 * cost of starting Node and loading the bundle at all.
 *
 * Runs the bundle (`npm run build` first) through bench/run-bundle.mjs, and
 * the `deminer` bin a user types, which also checks the bundle is newer than
 * the sources.
 *
 *   node --import tsx bench/server/cold-start.ts [--runs 5]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = (() => {
  const i = process.argv.indexOf('--runs');
  return i >= 0 ? Number(process.argv[i + 1]) : 5;
})();
const RUN = fileURLToPath(new URL('../run-bundle.mjs', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/deminer.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/deminer.mjs', import.meta.url));

async function healthy(url: string, deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    try {
      const r = await fetch(`${url}/api/v1/health`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url} not healthy in time`);
}

/** Milliseconds from spawn to health 200. */
async function upOnce(entry: string, agent: boolean): Promise<number> {
  const data = mkdtempSync(join(tmpdir(), 'deminer-cold-'));
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [entry, 'up', '--data', data, '--port', '0', ...(agent ? [] : ['--no-agent'])],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    let err = '';
    const url = await new Promise<string>((ok, fail) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /up on (http:\/\/[^\s]+) /.exec(err);
        if (m) ok(m[1]!);
      });
      child.on('exit', (code) => fail(new Error(`up exited with ${code}: ${err}`)));
    });
    await healthy(url, t0 + 30_000);
    return performance.now() - t0;
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.on('exit', r));
    rmSync(data, { recursive: true, force: true });
  }
}

function versionOnce(entry: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [entry, '--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return performance.now() - t0;
}

const range = (xs: number[]) =>
  `${(Math.min(...xs) / 1000).toFixed(2)}–${(Math.max(...xs) / 1000).toFixed(2)} s (median ${(xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]! / 1000).toFixed(2)})`;

if (!existsSync(BUNDLE)) throw new Error('no dist/deminer.mjs: run `npm run build` first');
const rows: [string, number[]][] = [
  ['bundle: deminer --version', []],
  ['bundle: up --no-agent → health 200', []],
  ['bundle: up (with agent) → health 200', []],
  ['bin: deminer --version', []],
  ['bin: up → health 200', []],
];
for (let i = 0; i < RUNS; i++) {
  rows[0]![1].push(versionOnce(RUN));
  rows[1]![1].push(await upOnce(RUN, false));
  rows[2]![1].push(await upOnce(RUN, true));
  rows[3]![1].push(versionOnce(BIN));
  rows[4]![1].push(await upOnce(BIN, true));
}
console.log(`${RUNS} runs each, interleaved, fresh data folder every run`);
for (const [label, xs] of rows) console.log(`${label.padEnd(40)} ${range(xs)}`);
