import type { BehaviourSeries, HostSnapshot, ProcessInfo } from '../../../core/host-snapshot.ts';
import {
  cpuProfileFeatures,
  MIN_SAMPLES,
  slidingWindows,
  windowFeatures,
} from '../../../ml/behaviour/features.ts';
import type { BehaviourModel } from '../../../ml/behaviour/model.ts';
import {
  CPU_ONLY_FEATURES,
  score,
  scoreCpuOnly,
  shippedBehaviourModel,
  topContributions,
} from '../../../ml/behaviour/model.ts';
import type { AnalyticOutput, HostAnalytic } from '../types.ts';
import { processSignal, userProcesses } from '../types.ts';
import { BASELINE_DAYS, BehaviourHistory, dayOf } from './history.ts';

/** A behavioural high on its own: suspicious (medium), never conclusive. */
const WEIGHT = 3;
/** The same from a package-owned program that has behaved so on earlier days on this host: noted (low). */
const USUAL_WEIGHT = 1;
/** The CPU-only profile knows much less: a weak hint. */
const CPU_ONLY_WEIGHT = 1.5;
const MINUTE_MS = 60_000;

/** Established outbound TCP connections the process holds (its local port is no listening one). */
export function outboundConnections(snapshot: HostSnapshot, p: ProcessInfo): number {
  if (p.socketInodes.length === 0) return 0;
  const mine = new Set(p.socketInodes);
  const listening = new Set<string>();
  for (const s of snapshot.sockets) if (s.state === 'LISTEN') listening.add(`${s.netns}|${s.localPort}`);
  let n = 0;
  for (const s of snapshot.sockets) {
    if (s.protocol !== 'tcp' || s.state !== 'ESTABLISHED' || !mine.has(s.inode)) continue;
    if (!listening.has(`${s.netns}|${s.localPort}`)) n++;
  }
  return n;
}

interface MinuteScore {
  score: number;
  x: number[];
}

/** Scores of each minute of the series (the whole series when it is shorter than a minute). */
function minuteScores(m: BehaviourModel, s: BehaviourSeries, cpus: number): MinuteScore[] {
  const spans: [number, number][] =
    (s.t.at(-1) ?? 0) >= MINUTE_MS * 0.9 * 2
      ? slidingWindows(s.t, MINUTE_MS, MINUTE_MS)
      : [[0, s.t.length - 1]];
  const out: MinuteScore[] = [];
  for (const [from, to] of spans) {
    const x = windowFeatures(s, cpus, from, to);
    if (x) out.push({ score: score(m, x), x });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Behaviour: a small model (src/ml/behaviour, trained on real workloads and a
 * real capped XMRig) over how a process used the machine through the window
 * — CPU share and steadiness, user/system split, context switches, page
 * faults, I/O, memory, stops and cgroup throttling, outbound connections —
 * rather than what it is called. It catches the miner no name, path or flag
 * rule names; the correlator weighs it with the binary's provenance.
 */
export function behaviourAnalytic(model?: BehaviourModel): HostAnalytic {
  return {
    id: 'behaviour',
    description:
      'Per-process behaviour over the window scored by the behaviour model: the capped, steady, quiet compute of a miner',
    analyze(snapshot, ctx) {
      const m = ctx.behaviourModel ?? model ?? shippedBehaviourModel();
      const cpus = Math.max(1, snapshot.host.cpus);
      const out: AnalyticOutput[] = [];
      const today = dayOf(snapshot.takenAt);
      for (const p of userProcesses(snapshot)) {
        const series = p.behaviour;
        if (series && series.t.length >= MIN_SAMPLES) {
          const withNet = { ...series, outbound: series.outbound ?? outboundConnections(snapshot, p) };
          const minutes = minuteScores(m, withNet, cpus);
          if (minutes.length === 0) continue;
          const s = median(minutes.map((x) => x.score));
          if (s < m.threshold) continue;
          const worst = minutes.reduce((a, b) => (b.score > a.score ? b : a));
          const top = topContributions(m, worst.x, 3);
          const observed = round3((series.t.at(-1) ?? 0) / MINUTE_MS);
          const key = ctx.behaviourHistory ? BehaviourHistory.keyOf(p) : undefined;
          const days = key ? ctx.behaviourHistory!.daysBefore(key, today) : 0;
          const usual = days >= BASELINE_DAYS;
          out.push(
            processSignal(p.pid, {
              id: 'behaviour.miner_like',
              category: 'behaviour',
              weight: usual ? USUAL_WEIGHT : WEIGHT,
              techniques: ['T1496'],
              text: `behaved like a hidden miner for ${observed < 1 ? `${Math.round(observed * 60)} s` : `${observed} min`} (behaviour score ${s.toFixed(2)}; ${top.map((t) => t.feature).join(', ') || 'overall profile'})${usual ? `, as this package's program did on ${days} earlier days on this host` : ''}`,
              evidence: {
                ...(key ? { baseline_days: days } : {}),
                score: round3(s),
                threshold: m.threshold,
                minutes_observed: observed,
                minute_scores: minutes.map((x) => round3(x.score)),
                top_features: top,
                model: m.kind,
              },
            }),
          );
        } else if (!series && (p.packaged !== true || p.exeDeleted)) {
          // Without a series only the CPU pattern is known, which the cpu analytic already
          // weighs: this weak hint only adds to a binary no package owns (or one deleted).
          const x = cpuProfileFeatures(p.cpuSeries, p.rssBytes, p.threads, cpus);
          const s = x ? scoreCpuOnly(m, x) : undefined;
          if (!x || s === undefined || s < m.cpuOnly!.threshold) continue;
          out.push(
            processSignal(p.pid, {
              id: 'behaviour.cpu_profile',
              category: 'behaviour',
              weight: CPU_ONLY_WEIGHT,
              techniques: ['T1496'],
              text: `has the CPU profile of a miner (score ${s.toFixed(2)} on CPU, memory and threads alone: sample with a longer window to know more)`,
              evidence: {
                score: round3(s),
                threshold: m.cpuOnly!.threshold,
                minutes_observed: round3(snapshot.windowMs / MINUTE_MS),
                features: Object.fromEntries(CPU_ONLY_FEATURES.map((i) => [m.features[i]!, round3(x[i]!)])),
                model: 'cpu-only logistic',
              },
            }),
          );
        }
      }
      return out;
    },
  };
}

export const behaviour: HostAnalytic = behaviourAnalytic();
