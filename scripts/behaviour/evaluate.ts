/**
 * Held-out evaluation of the behaviour models against the static CPU rules,
 * in one run, per process-minute; with --write-model it also trains the
 * best shippable model on every recording and writes data/behaviour/model.json
 * (deterministic: the same recordings give the same bytes).
 *
 *   npm run eval:behaviour               # figures (stdout) + data/behaviour/evaluation.json
 *   npm run train:behaviour              # the same, then the shipped model
 *
 * Folds: every pair (benign workload W, capping method C). A fold trains on
 * the process-minutes whose workload is not W and whose capping method is
 * not C (miners and benign alike), and is scored on W's benign minutes and
 * on the miner minutes capped by C: no model is scored on a workload or a
 * capping method it was trained on. The alert threshold of each fold is
 * chosen on its own training data (THRESHOLD_FLOOR, or higher when more
 * than 0.1 % of training benign minutes score above it).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HostSnapshot, ProcessInfo } from '../../src/core/host-snapshot.ts';
import { seededRandom } from '../../src/core/random.ts';
import { cpu } from '../../src/detect/host/cpu/index.ts';
import { FEATURE_NAMES } from '../../src/ml/behaviour/features.ts';
import type { BehaviourGate, BehaviourModel } from '../../src/ml/behaviour/model.ts';
import { CPU_ONLY_FEATURES, failedGate } from '../../src/ml/behaviour/model.ts';
import { buildRows, loadRecordings, type Row, STEP_MS, WINDOW_MS } from './dataset.ts';
import { type Scorer, scorerOf, trainBaseline, trainGru, trainLogistic, trainStumps } from './learners.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const REC_DIR = join(REPO, 'data/behaviour/recordings');
const TRAIN_FPR = 0.001;
const TARGET_FPR = 0.003;
const TARGET_TPR = 0.95;
/**
 * The least alert threshold, whatever the training benign scores (the
 * CPU-only fallback alerts at 0.5). It was 0.5; with a second kind of miner
 * in the data (the self-throttling simulator), held out it scored between
 * 0.3 and 0.5 with XMRig alone to learn from. Floors of 0.5, 0.3 and 0.1
 * were compared on the held-out folds (docs/behaviour.md).
 */
const THRESHOLD_FLOOR = 0.3;
/** The CPU-only fallback is a weak hint: it alerts at its decision boundary (0.5), in the folds as shipped. */
const CPU_ONLY = 'cpu-only logistic (fallback without a series)';

type RowScorer = (r: Row) => number;
type Learner = {
  name: string;
  shippable: boolean;
  train: (rows: Row[]) => { scorer: RowScorer; model?: BehaviourModel };
};
const onX =
  (s: Scorer): RowScorer =>
  (r) =>
    s(r.x);

/**
 * Conditions of proof-of-work hashing, fixed from what hashing is rather than
 * learned (src/ml/behaviour/model.ts, GateSchema): the learned part scores
 * only process-minutes that meet them. Set with a wide margin around every
 * miner minute recorded (user share ≥ 0.988, ≤ 10^2.93 voluntary switches
 * per CPU-second), after the held-out evaluation showed the I/O-bound
 * pgbench client looking like a miner to the learned part alone.
 */
export const COMPUTE_BOUND_GATES: BehaviourGate[] = [
  {
    feature: 'user_share',
    min: 0.8,
    why: 'hashing runs in user space: a process spending more than a fifth of its CPU time in the kernel is doing I/O or system calls, not proof of work',
  },
  {
    feature: 'vcsw_per_cpu_s',
    max: 3.5,
    why: 'a hashing thread gives up the CPU only when a cap or a sleep makes it; more than ~3,000 voluntary switches per CPU-second is a process waiting on sockets, disks or other processes',
  },
];

/**
 * Resident memory and threads per core describe one miner's implementation
 * (XMRig's RandomX dataset, its thread pool), not mining: a CryptoNight miner
 * holds 2 MiB per thread and the project's simulator one thread.
 */
const SIZE_FEATURES = ['rss_log_mb', 'threads_per_core'].map((f) =>
  FEATURE_NAMES.indexOf(f as (typeof FEATURE_NAMES)[number]),
);

/**
 * A miner holds a connection to its pool (or a proxy, on this host or
 * another): without one it earns nothing. Learned, this was the model's
 * strongest single feature, because no benign compute job recorded holds an
 * outbound connection, which says more about the data than about programs.
 * As a gate it is explicit, and the learned part must then tell a miner from
 * compute that does hold connections by how it computes.
 */
export const POOL_GATE: BehaviourGate = {
  feature: 'outbound_conns',
  min: 0.3,
  why: 'a miner holds at least one outbound connection to its pool or a proxy (log10(1 + connections) ≥ 0.3)',
};
const OUTBOUND = FEATURE_NAMES.indexOf('outbound_conns');

const gatedBy =
  (gates: BehaviourGate[]) =>
  (s: RowScorer): RowScorer =>
  (r) =>
    failedGate({ gates }, r.x) ? 0 : s(r);
const gated = gatedBy(COMPUTE_BOUND_GATES);

const LEARNERS: Learner[] = [
  {
    name: 'logistic',
    shippable: true,
    train: (rows) => {
      const model = trainLogistic(rows);
      return { scorer: onX(scorerOf(model)), model };
    },
  },
  {
    name: 'stumps',
    shippable: true,
    train: (rows) => {
      const model = trainStumps(rows);
      return { scorer: onX(scorerOf(model)), model };
    },
  },
  {
    name: 'logistic + compute-bound gates',
    shippable: true,
    train: (rows) => {
      const model = { ...trainLogistic(rows), gates: COMPUTE_BOUND_GATES };
      return { scorer: gated(onX(scorerOf(model))), model };
    },
  },
  {
    name: 'stumps + compute-bound gates',
    shippable: true,
    train: (rows) => {
      const model = { ...trainStumps(rows), gates: COMPUTE_BOUND_GATES };
      return { scorer: gated(onX(scorerOf(model))), model };
    },
  },
  {
    name: 'stumps + gates, no size features',
    shippable: true,
    train: (rows) => {
      const model = { ...trainStumps(rows, { exclude: SIZE_FEATURES }), gates: COMPUTE_BOUND_GATES };
      return { scorer: gated(onX(scorerOf(model))), model };
    },
  },
  {
    name: 'stumps + gates incl. pool connection, no size features',
    shippable: true,
    train: (rows) => {
      const gates = [...COMPUTE_BOUND_GATES, POOL_GATE];
      const model = { ...trainStumps(rows, { exclude: [...SIZE_FEATURES, OUTBOUND] }), gates };
      return { scorer: gatedBy(gates)(onX(scorerOf(model))), model };
    },
  },
  {
    name: 'gru (10 s steps)',
    shippable: false,
    train: (rows) => {
      // Idle system services are most of the benign minutes and say the same thing: a seeded sample of them.
      const random = seededRandom(11);
      const keep = rows.filter((r) => !r.workload.startsWith('host-background') || random() < 0.25);
      const f = trainGru(keep);
      return { scorer: (r) => f(r.seq) };
    },
  },
  {
    name: CPU_ONLY,
    shippable: false,
    train: (rows) => {
      const model = trainLogistic(rows.map(cpuOnlyRow));
      const sc = scorerOf(model);
      return { scorer: (r) => sc(maskCpuOnly(r.x)), model };
    },
  },
  {
    name: 'host-baseline',
    shippable: false,
    train: (rows) => ({ scorer: onX(trainBaseline(rows.filter((r) => r.y === 0))) }),
  },
];

function maskCpuOnly(x: readonly number[]): number[] {
  return x.map((v, i) => (CPU_ONLY_FEATURES.includes(i) ? v : 0));
}

function cpuOnlyRow(r: Row): Row {
  return { ...r, x: maskCpuOnly(r.x) };
}

/** The static rules as deminer runs them today, on the same process-minute. */
function staticRules(r: Row): { cpu30: boolean; cpuAnalytic: boolean } {
  const mean = r.cpuSeries.reduce((a, b) => a + b, 0) / Math.max(1, r.cpuSeries.length);
  const p: ProcessInfo = {
    pid: r.pid,
    ppid: 1,
    name: r.comm,
    argv: [],
    exeDeleted: false,
    kernelThread: false,
    threads: 1,
    rssBytes: 0,
    cpuCores: mean,
    cpuSeries: r.cpuSeries,
    socketInodes: [],
  };
  const snap: HostSnapshot = {
    host: { name: 'eval', os: 'linux', cpus: r.cpus },
    takenAt: '2026-01-01T00:00:00.000Z',
    windowMs: WINDOW_MS,
    processes: [p],
    sockets: [],
    newOutbound: {},
    files: [],
    stats: {
      processes: 1,
      kernelThreads: 0,
      vanished: 0,
      unreadable: 0,
      sockets: 0,
      netns: 0,
      files: 0,
      collectMs: 0,
    },
  };
  return { cpu30: mean > 0.3, cpuAnalytic: cpu.analyze(snap, {}).length > 0 };
}

/** The score above which at most `fpr` of these benign scores lie. */
function thresholdFor(benignScores: number[], fpr: number): number {
  const s = [...benignScores].sort((a, b) => b - a);
  const k = Math.floor(fpr * s.length);
  return (s[k] ?? 0) + 1e-9;
}

interface Scored {
  y: 0 | 1;
  score: number;
  flagged: boolean;
  active: boolean;
  workload: string;
  capping: string;
}

function auc(list: readonly Scored[]): number {
  const pos = list.filter((s) => s.y === 1).map((s) => s.score);
  const neg = list
    .filter((s) => s.y === 0)
    .map((s) => s.score)
    .sort((a, b) => a - b);
  let sum = 0;
  for (const p of pos) {
    let lo = 0;
    let hi = neg.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (neg[mid]! < p) lo = mid + 1;
      else hi = mid;
    }
    let eq = lo;
    while (eq < neg.length && neg[eq] === p) eq++;
    sum += lo + (eq - lo) / 2;
  }
  return pos.length && neg.length ? sum / (pos.length * neg.length) : Number.NaN;
}

/** TPR at the largest threshold whose pooled FPR is ≤ fpr. */
function tprAt(list: readonly Scored[], fpr: number): number {
  const t = thresholdFor(
    list.filter((s) => s.y === 0).map((s) => s.score),
    fpr,
  );
  const pos = list.filter((s) => s.y === 1);
  return pos.filter((s) => s.score >= t).length / Math.max(1, pos.length);
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

export interface ModelResult {
  name: string;
  detection: number;
  fpr: number;
  fprActive: number;
  auc: number | null;
  roc: { fpr: number; tpr: number }[];
  byCapping: Record<string, number>;
  byWorkload: Record<string, number>;
  minerMinutes: number;
  benignMinutes: number;
}

function summarise(name: string, list: Scored[], withCurve: boolean): ModelResult {
  const pos = list.filter((s) => s.y === 1);
  const neg = list.filter((s) => s.y === 0);
  const active = neg.filter((s) => s.active);
  const byCapping: Record<string, number> = {};
  for (const c of [...new Set(pos.map((s) => s.capping))].sort()) {
    const l = pos.filter((s) => s.capping === c);
    byCapping[c] = round4(l.filter((s) => s.flagged).length / l.length);
  }
  const byWorkload: Record<string, number> = {};
  for (const w of [...new Set(neg.map((s) => s.workload))].sort()) {
    const l = neg.filter((s) => s.workload === w);
    byWorkload[w] = round4(l.filter((s) => s.flagged).length / l.length);
  }
  return {
    name,
    detection: round4(pos.filter((s) => s.flagged).length / Math.max(1, pos.length)),
    fpr: round4(neg.filter((s) => s.flagged).length / Math.max(1, neg.length)),
    fprActive: round4(active.filter((s) => s.flagged).length / Math.max(1, active.length)),
    auc: withCurve ? round4(auc(list)) : null,
    roc: withCurve
      ? [0, 0.001, 0.003, 0.01, 0.03, 0.1].map((f) => ({ fpr: f, tpr: round4(tprAt(list, f)) }))
      : [],
    byCapping,
    byWorkload,
    minerMinutes: pos.length,
    benignMinutes: neg.length,
  };
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

export function evaluate(rows: Row[]): ModelResult[] {
  const workloads = [...new Set(rows.filter((r) => r.y === 0).map((r) => r.workload))].sort();
  const cappings = [...new Set(rows.filter((r) => r.y === 1).map((r) => r.capping))].sort();
  const scored = new Map<string, Scored[]>();
  const add = (name: string, s: Scored) => {
    const l = scored.get(name) ?? [];
    l.push(s);
    scored.set(name, l);
  };
  for (const w of workloads) {
    for (const c of cappings) {
      const train = rows.filter((r) => r.workload !== w && r.capping !== c);
      const test = rows.filter((r) => (r.y === 0 && r.workload === w) || (r.y === 1 && r.capping === c));
      for (const l of LEARNERS) {
        const { scorer } = l.train(train);
        // The same rule as the shipped threshold: the score above 0.1 % of training benign minutes, never below the floor.
        const t = Math.max(
          l.name === CPU_ONLY ? 0.5 : THRESHOLD_FLOOR,
          l.name === CPU_ONLY
            ? 0
            : thresholdFor(
                train.filter((r) => r.y === 0).map((r) => scorer(r)),
                TRAIN_FPR,
              ),
        );
        for (const r of test) {
          const score = scorer(r);
          add(l.name, {
            y: r.y,
            score,
            flagged: score >= t,
            active: r.x[0]! >= 0.05,
            workload: r.workload,
            capping: r.capping,
          });
        }
      }
      for (const r of test) {
        const st = staticRules(r);
        const base = { y: r.y, active: r.x[0]! >= 0.05, workload: r.workload, capping: r.capping };
        add('static: CPU > 30 %', { ...base, score: st.cpu30 ? 1 : 0, flagged: st.cpu30 });
        add('static: cpu analytic (sustained/throttled)', {
          ...base,
          score: st.cpuAnalytic ? 1 : 0,
          flagged: st.cpuAnalytic,
        });
      }
    }
  }
  return [...scored].map(([name, list]) => summarise(name, list, !name.startsWith('static')));
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function main(): void {
  const rows = buildRows(loadRecordings(REC_DIR));
  const miners = rows.filter((r) => r.y === 1).length;
  process.stdout.write(
    `${rows.length} process-minutes (${WINDOW_MS / 1000} s windows every ${STEP_MS / 1000} s): ${miners} miner, ${rows.length - miners} benign\n\n`,
  );
  const results = evaluate(rows);
  process.stdout.write(
    '| model | miner minutes flagged | benign flagged | active benign flagged | AUC | TPR at 0.3 % FPR |\n|---|---|---|---|---|---|\n',
  );
  for (const r of results) {
    const at = r.roc.find((p) => p.fpr === TARGET_FPR);
    process.stdout.write(
      `| ${r.name} | ${pct(r.detection)} | ${pct(r.fpr)} | ${pct(r.fprActive)} | ${r.auc ?? '—'} | ${at ? pct(at.tpr) : '—'} |\n`,
    );
  }
  process.stdout.write('\nPer capping method (detection) and per benign workload (false positives):\n');
  for (const r of results) {
    process.stdout.write(`- ${r.name}: ${JSON.stringify(r.byCapping)} ${JSON.stringify(r.byWorkload)}\n`);
  }
  const recordings = readdirSync(REC_DIR)
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .map((f) => ({ file: f, sha256: sha256(join(REC_DIR, f)) }));
  writeFileSync(
    join(REPO, 'data/behaviour/evaluation.json'),
    `${JSON.stringify({ windowMs: WINDOW_MS, stepMs: STEP_MS, trainFpr: TRAIN_FPR, recordings, results }, null, 1)}\n`,
  );
  if (process.argv.includes('--write-model')) {
    // Ship, among the shippable models that meet the target held out (≥ 95 % of miner minutes at
    // ≤ 0.3 % of benign minutes), the one that flags the fewest busy benign minutes (what users
    // see); without one that meets it, the best detection at ≤ 0.3 % (ties: AUC).
    const meets = (r: ModelResult) => r.detection >= TARGET_TPR && r.fpr <= TARGET_FPR;
    const best = results
      .filter((r) => LEARNERS.find((l) => l.name === r.name)?.shippable)
      .sort(
        (a, b) =>
          Number(meets(b)) - Number(meets(a)) ||
          (meets(a) && meets(b) ? a.fprActive - b.fprActive : 0) ||
          Number(b.fpr <= TARGET_FPR) - Number(a.fpr <= TARGET_FPR) ||
          b.detection - a.detection ||
          (b.auc ?? 0) - (a.auc ?? 0),
      )[0]!;
    const cpuOnly = results.find((r) => r.name === CPU_ONLY)!;
    const shipped = buildShippedModel(rows, best.name, {
      recordings,
      rows: { miner: miners, benign: rows.length - miners },
      heldOut: { detection: best.detection, fpr: best.fpr, fprActive: best.fprActive, auc: best.auc },
      heldOutCpuOnly: {
        detection: cpuOnly.detection,
        fpr: cpuOnly.fpr,
        fprActive: cpuOnly.fprActive,
        auc: cpuOnly.auc,
      },
    });
    writeFileSync(join(REPO, 'data/behaviour/model.json'), `${JSON.stringify(shipped, null, 1)}\n`);
    process.stdout.write(
      `\nshipped ${best.name} → data/behaviour/model.json (threshold ${shipped.threshold})\n`,
    );
  }
}

const roundT = (t: number): number => Math.round(Math.max(t, THRESHOLD_FLOOR) * 1e6) / 1e6;

/** The shipped model: `kind` trained on every row, plus the CPU-only fallback; deterministic. */
export function buildShippedModel(
  rows: Row[],
  learnerName: string,
  provenance: Record<string, unknown>,
): BehaviourModel {
  const learner = LEARNERS.find((l) => l.name === learnerName && l.shippable)!;
  const { model, scorer } = learner.train(rows);
  const benign = rows.filter((r) => r.y === 0);
  const threshold = thresholdFor(
    benign.map((r) => scorer(r)),
    TRAIN_FPR,
  );
  const cpu = trainLogistic(rows.map(cpuOnlyRow));
  return {
    ...model!,
    threshold: roundT(threshold),
    cpuOnly: {
      mean: cpu.mean,
      scale: cpu.scale,
      weights: cpu.weights,
      bias: cpu.bias,
      threshold: 0.5,
    },
    provenance: {
      trainedBy: 'scripts/behaviour/evaluate.ts --write-model (npm run train:behaviour)',
      windowMs: WINDOW_MS,
      stepMs: STEP_MS,
      learner: learnerName,
      features: FEATURE_NAMES,
      thresholdRule: `max(${THRESHOLD_FLOOR}, the score above ${TRAIN_FPR * 100} % of training benign process-minutes); the CPU-only fallback, a weak hint, at 0.5`,
      ...provenance,
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
