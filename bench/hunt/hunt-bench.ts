/**
 * Events/s of `deminer hunt` with every SigmaHQ Windows rule loaded, over the
 * EVTX corpus, beside the parse-only time of libevtx's `evtxexport` on the same
 * files in the same run; then the folder hunt on one thread against the same
 * hunt on worker threads (one per core), wall clock, same findings.
 *
 *   node --import tsx bench/hunt/hunt-bench.ts [EVTX_DIR] [RULES_DIR] [--copies N]
 *
 * The CPU-time figures are one core: run them alone (`taskset -c 0` if you
 * like; the thread comparison then has one core only and says so).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EcsEvent } from '../../src/core/event.ts';
import { loadSigmaRules, sigmaEngineOf } from '../../src/detect/sigma/index.ts';
import { hunt } from '../../src/pipeline/hunt.ts';
import { readInput } from '../../src/pipeline/read-input.ts';
import { walkInputs } from '../../src/pipeline/walk.ts';
import { evtxSource } from '../../src/sources/evtx/source.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const copiesAt = args.indexOf('--copies');
const copies = copiesAt >= 0 ? Number(args.splice(copiesAt, 2)[1]) : 8;
const evtxDir = args[0] ?? join(root, '../shared/corpora/evtx');
const rulesDir = args[1] ?? join(root, '../shared/corpora/sigma/rules/windows');
if (!existsSync(evtxDir) || !existsSync(rulesDir)) {
  console.error(`corpus not found (${evtxDir}, ${rulesDir})`);
  process.exit(2);
}
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

let c = cpu();
const loaded = loadSigmaRules({ ruleDirs: [rulesDir] });
const loadMs = cpu() - c;
c = cpu();
const engine = sigmaEngineOf(loaded.rules);
const compileMs = cpu() - c;
const s = engine.stats();
console.log(
  `rules: ${s.runnable} runnable of ${s.rules} (${s.unmapped} unmapped log sources), ${s.leafTests} distinct field tests; load ${Math.round(loadMs)} ms + compile ${Math.round(compileMs)} ms CPU`,
);

const { files } = await walkInputs([evtxDir]);
const evtxFiles = files.filter((f) => f.path.endsWith('.evtx'));

/** Every EVTX file through the source, each event handed to `onEvent`. */
async function readAll(onEvent: (e: EcsEvent) => void): Promise<number> {
  const counters = { events: 0, outOfRange: 0 };
  const handlers = { event: onEvent, net: () => {}, issue: () => {} };
  for (const f of evtxFiles) await readInput(f.path, f.size, evtxSource, {}, handlers, counters);
  return counters.events;
}

// Warm-up pass so that every bucket is built and the JIT has seen the code.
await hunt({ paths: [evtxDir], rules: loaded.rules, engine, threads: 1 });

// Best of three for every figure: the passes are short, and other processes and GC make single passes noisy.
const bestOf3 = async <T>(run: () => Promise<T>, clock = cpu): Promise<{ ms: number; result: T }> => {
  let best = { ms: Number.POSITIVE_INFINITY, result: undefined as T | undefined };
  for (let k = 0; k < 3; k++) {
    const t = clock();
    const result = await run();
    const ms = clock() - t;
    if (ms < best.ms) best = { ms, result };
  }
  return best as { ms: number; result: T };
};

const { ms: parseMs, result: n } = await bestOf3(() => readAll(() => {}));

// Before the engine-only pass, whose events held in memory would burden this one's garbage collection.
const { ms: huntMs, result: full } = await bestOf3(() =>
  hunt({ paths: [evtxDir], rules: loaded.rules, engine, threads: 1 }),
);

const events: EcsEvent[] = [];
await readAll((e) => events.push(e));
let engineMs = Number.POSITIVE_INFINITY;
let findings = 0;
for (let k = 0; k < 3; k++) {
  c = cpu();
  findings = 0;
  for (const e of events) findings += engine.observe(e).length;
  engineMs = Math.min(engineMs, cpu() - c);
}
events.length = 0;

let refMs = Number.NaN;
const probe = spawnSync('evtxexport', ['-h'], { encoding: 'utf8' });
if (probe.error === undefined) {
  // One shell runs every file; `times` reports its children's CPU, comparable with ours (process start-up included).
  const r = spawnSync(
    'bash',
    [
      '-c',
      'for f in "$@"; do evtxexport -f xml "$f" >/dev/null 2>&1; done; times',
      'bench',
      ...evtxFiles.map((f) => f.path),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  const lines = r.stdout.trim().split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines.at(-1) ?? '');
  if (m) refMs = (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

const rate = (events: number, ms: number): string =>
  `${Math.round((events / ms) * 1000).toLocaleString('en-US')}/s`;
console.log(
  `events: ${n} in ${evtxFiles.length} EVTX files; findings: ${full.findings.length} (engine-only pass: ${findings})`,
);
console.log(`deminer parse only (EVTX → events):       ${Math.round(parseMs)} ms CPU  ${rate(n, parseMs)}`);
console.log(
  `deminer Sigma engine only (events in RAM): ${Math.round(engineMs)} ms CPU  ${rate(n, engineMs)}`,
);
console.log(`deminer hunt (parse + all rules):         ${Math.round(huntMs)} ms CPU  ${rate(n, huntMs)}`);
if (Number.isNaN(refMs))
  console.log('evtxexport not installed (apt-get install libevtx-utils): no reference figure');
else {
  console.log(`evtxexport -f xml, parse only:            ${Math.round(refMs)} ms CPU  ${rate(n, refMs)}`);
  console.log(`ratio deminer hunt CPU / evtxexport CPU: ${(huntMs / refMs).toFixed(2)}`);
}

// A folder of `copies` copies of every file (symlinks): the folder hunt of a day's logs from many hosts.
const folder = mkdtempSync(join(tmpdir(), 'deminer-hunt-bench-'));
try {
  for (let k = 0; k < copies; k++)
    for (const f of evtxFiles)
      symlinkSync(f.path, join(folder, `${k}-${basename(dirname(f.path))}-${basename(f.path)}`));
  const wall = (): number => performance.now();
  const threads = availableParallelism();
  const one = await bestOf3(() => hunt({ paths: [folder], rules: loaded.rules, threads: 1 }), wall);
  const many = await bestOf3(() => hunt({ paths: [folder], rules: loaded.rules, threads }), wall);
  const key = (f: { fingerprint: string; rule: { id: string } }): string => `${f.rule.id} ${f.fingerprint}`;
  const same =
    JSON.stringify(one.result.findings.map(key)) === JSON.stringify(many.result.findings.map(key)) &&
    one.result.stats.events === many.result.stats.events;
  const events = one.result.stats.events;
  console.log(
    `folder hunt, ${copies} copies (${evtxFiles.length * copies} files, ${events} events), wall clock, rules compiled in each run:`,
  );
  console.log(`  1 thread:            ${Math.round(one.ms)} ms  ${rate(events, one.ms)}`);
  console.log(
    `  ${threads} worker threads:    ${Math.round(many.ms)} ms  ${rate(events, many.ms)}  (${(one.ms / many.ms).toFixed(2)}× one thread; findings ${same ? 'identical' : 'DIFFER'})`,
  );
} finally {
  rmSync(folder, { recursive: true, force: true });
}
