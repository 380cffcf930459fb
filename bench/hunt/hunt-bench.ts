/**
 * Events/s of `deminer hunt` with every SigmaHQ Windows rule loaded, over the
 * EVTX corpus, beside the parse-only time of libevtx's `evtxexport` on the same
 * files in the same run. One core: run it alone (`taskset -c 0` if you like).
 *
 *   node --import tsx bench/hunt/hunt-bench.ts [EVTX_DIR] [RULES_DIR]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EcsEvent } from '../../src/core/event.ts';
import { buildEngine } from '../../src/detect/sigma/index.ts';
import { hunt } from '../../src/hunt/hunt.ts';
import { walkInputs } from '../../src/hunt/walk.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const evtxDir = process.argv[2] ?? join(root, '../shared/corpora/evtx');
const rulesDir = process.argv[3] ?? join(root, '../shared/corpora/sigma/rules/windows');
if (!existsSync(evtxDir) || !existsSync(rulesDir)) {
  console.error(`corpus not found (${evtxDir}, ${rulesDir})`);
  process.exit(2);
}
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

let c = cpu();
const build = buildEngine({ ruleDirs: [rulesDir] });
const compileMs = cpu() - c;
const s = build.engine.stats;
console.log(
  `rules: ${s.runnable} runnable of ${s.rules} (${s.unmapped} unmapped log sources), ${s.leafTests} distinct field tests; load+compile ${Math.round(compileMs)} ms CPU`,
);

// Warm-up pass so that every bucket is built and the JIT has seen the code.
await hunt({ paths: [evtxDir], detectors: [build.engine] });

// Best of three for every figure: the passes are short, and other processes and GC make single passes noisy.
const bestOf3 = async <T>(run: () => Promise<T>): Promise<{ ms: number; result: T }> => {
  let best = { ms: Number.POSITIVE_INFINITY, result: undefined as T | undefined };
  for (let k = 0; k < 3; k++) {
    const t = cpu();
    const result = await run();
    const ms = cpu() - t;
    if (ms < best.ms) best = { ms, result };
  }
  return best as { ms: number; result: T };
};

const { ms: parseMs, result: parsed } = await bestOf3(() => hunt({ paths: [evtxDir], detectors: [] }));

// Before the engine-only pass, whose events held in memory would burden this one's garbage collection.
const { ms: huntMs, result: full } = await bestOf3(() =>
  hunt({ paths: [evtxDir], detectors: [build.engine] }),
);

const events: EcsEvent[] = [];
const collector = {
  id: 'collect',
  description: '',
  detect: (e: EcsEvent) => {
    events.push(e);
    return [];
  },
};
await hunt({ paths: [evtxDir], detectors: [collector] });

let engineMs = Number.POSITIVE_INFINITY;
let findings = 0;
for (let k = 0; k < 3; k++) {
  c = cpu();
  findings = 0;
  for (const e of events) findings += build.engine.detect(e).length;
  engineMs = Math.min(engineMs, cpu() - c);
}

const { files } = await walkInputs([evtxDir]);
const evtxFiles = files.filter((f) => f.path.endsWith('.evtx')).map((f) => f.path);
let refMs = Number.NaN;
const probe = spawnSync('evtxexport', ['-h'], { encoding: 'utf8' });
if (probe.error === undefined) {
  // One shell runs every file; `times` reports its children's CPU, comparable with ours (process start-up included).
  const r = spawnSync(
    'bash',
    ['-c', 'for f in "$@"; do evtxexport -f xml "$f" >/dev/null 2>&1; done; times', 'bench', ...evtxFiles],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  const lines = r.stdout.trim().split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines.at(-1) ?? '');
  if (m) refMs = (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

const n = parsed.stats.events;
const rate = (ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
console.log(
  `events: ${n} in ${evtxFiles.length} EVTX files; findings: ${full.findings.length} (engine-only pass: ${findings})`,
);
console.log(`deminer parse only (EVTX → events):       ${Math.round(parseMs)} ms CPU  ${rate(parseMs)}`);
console.log(`deminer Sigma engine only (events in RAM): ${Math.round(engineMs)} ms CPU  ${rate(engineMs)}`);
console.log(`deminer hunt (parse + all rules):         ${Math.round(huntMs)} ms CPU  ${rate(huntMs)}`);
if (Number.isNaN(refMs))
  console.log('evtxexport not installed (apt-get install libevtx-utils): no reference figure');
else {
  console.log(`evtxexport -f xml, parse only:            ${Math.round(refMs)} ms CPU  ${rate(refMs)}`);
  console.log(`ratio deminer hunt CPU / evtxexport CPU: ${(huntMs / refMs).toFixed(2)}`);
}
