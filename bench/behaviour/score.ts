// Cost of the behaviour analytic on a host with ~400 processes, beside the
// static CPU analytic on the same snapshot, same process, one core; and the
// cost of one 1 Hz sample of this machine's /proc by the sampler
// (npm run bench:behaviour, or node --import tsx bench/behaviour/score.ts [PROCESSES]).
// Series: the recorded ones in data/behaviour/recordings, cycled to fill the host.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRecordings } from '../../scripts/behaviour/dataset.ts';
import type { HostSnapshot, ProcessInfo } from '../../src/core/host-snapshot.ts';
import { behaviour } from '../../src/detect/host/behaviour/index.ts';
import { cpu } from '../../src/detect/host/cpu/index.ts';
import { BehaviourSampler } from '../../src/sources/procfs/sampler.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const N = Number(process.argv[2] ?? 400);
const ROUNDS = 20;

const recs = loadRecordings(join(REPO, 'data/behaviour/recordings'));
const series = recs.flatMap((r) => r.processes.map((p) => p.series)).filter((s) => s.t.length >= 61);
const processes: ProcessInfo[] = [];
for (let i = 0; i < N; i++) {
  const s = series[i % series.length]!;
  // The last minute of each series, as `deminer scan --window 60s` gives it.
  const from = s.t.length - 61;
  const cut = Object.fromEntries(
    Object.entries(s).map(([k, v]) => [
      k,
      Array.isArray(v) ? v.slice(from).map((x, _j, a) => (k === 't' ? x - (a[0] as number) : x)) : v,
    ]),
  ) as typeof s;
  const cpuSeries = cut.utime
    .slice(1)
    .map((u, j) => (u + cut.stime[j + 1]! - cut.utime[j]! - cut.stime[j]!) / 100);
  processes.push({
    pid: 1000 + i,
    ppid: 1,
    name: `p${i}`,
    argv: [],
    exeDeleted: false,
    kernelThread: false,
    threads: cut.threads.at(-1)!,
    rssBytes: cut.rssPages.at(-1)! * 4096,
    cpuCores: cpuSeries.reduce((a, b) => a + b, 0) / cpuSeries.length,
    cpuSeries,
    socketInodes: [],
    behaviour: cut,
  });
}
const snapshot: HostSnapshot = {
  host: { name: 'bench', os: 'linux', cpus: 2 },
  takenAt: '2026-01-01T00:00:00.000Z',
  windowMs: 60_000,
  processes,
  sockets: [],
  newOutbound: {},
  files: [],
  stats: {
    processes: N,
    kernelThreads: 0,
    vanished: 0,
    unreadable: 0,
    sockets: 0,
    netns: 1,
    files: 0,
    collectMs: 0,
  },
};

function time(fn: () => unknown): number {
  fn(); // warm-up (and the model file read once)
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) fn();
  return (performance.now() - t0) / ROUNDS;
}

const tBehaviour = time(() => behaviour.analyze(snapshot, {}));
const tCpu = time(() => cpu.analyze(snapshot, {}));
const sampler = new BehaviourSampler();
let k = 0;
const tSample = time(() => sampler.sample(k++ * 1000));
const model = statSync(join(REPO, 'data/behaviour/model.json')).size;

const share = (ms: number, everyS: number) => `${((ms / (everyS * 1000)) * 100).toFixed(4)} % of one core`;
process.stdout.write(
  [
    `${N} processes, 60 samples each; ${ROUNDS} rounds`,
    `behaviour analytic (features + model): ${tBehaviour.toFixed(2)} ms per scoring = ${share(tBehaviour, 60)} scored once a minute, ${share(tBehaviour, 10)} every 10 s`,
    `static cpu analytic, same snapshot:     ${tCpu.toFixed(2)} ms (ratio ${(tBehaviour / tCpu).toFixed(1)}×)`,
    `sampler, one sample of this host's /proc (${sampler.size} processes): ${tSample.toFixed(2)} ms = ${share(tSample, 1)} at 1 Hz`,
    `model file: ${model} bytes`,
    '',
  ].join('\n'),
);
