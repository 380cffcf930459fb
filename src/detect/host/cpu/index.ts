import type { AnalyticOutput, HostAnalytic } from '../types.ts';
import { processSignal, userProcesses } from '../types.ts';

export interface CpuStats {
  mean: number;
  sd: number;
  cv: number;
  min: number;
  n: number;
}

export function cpuStats(series: readonly number[]): CpuStats {
  const n = series.length;
  if (n === 0) return { mean: 0, sd: 0, cv: 0, min: 0, n: 0 };
  const mean = series.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(series.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { mean, sd, cv: mean > 0 ? sd / mean : 0, min: Math.min(...series), n };
}

const twoDecimals = (x: number): number => Math.round(x * 100) / 100;

/**
 * CPU abuse: sustained use over the window, and the throttled pattern miners
 * use to stay under alerting thresholds — a steady, low-variance duty cycle
 * held under a cap (~30 % of a core or of the machine). Interactive and
 * bursty work varies a lot from second to second; a throttled miner does not.
 */
export const cpu: HostAnalytic = {
  id: 'cpu',
  description: 'Sustained CPU use and the steady, capped duty cycle of throttled miners',
  analyze(snapshot) {
    const out: AnalyticOutput[] = [];
    const cpus = snapshot.host.cpus;
    for (const p of userProcesses(snapshot)) {
      const stats = cpuStats(p.cpuSeries);
      const evidence = {
        cores: twoDecimals(p.cpuCores),
        machineShare: twoDecimals(p.cpuCores / cpus),
        samples: p.cpuSeries,
        cv: twoDecimals(stats.cv),
      };
      if (stats.n >= 3) {
        const busy = p.cpuSeries.filter((x) => x >= 0.5).length / stats.n;
        if (stats.mean >= 0.8 && busy >= 0.8) {
          out.push(
            processSignal(p.pid, {
              id: 'cpu.sustained',
              category: 'cpu',
              weight: 2.5,
              techniques: ['T1496'],
              text: `kept ${Math.round(stats.mean * 100)} % of a core busy for the whole ${Math.round(snapshot.windowMs / 1000)} s window`,
              evidence,
            }),
          );
          continue;
        }
        const share = stats.mean / cpus;
        const capped = (stats.mean >= 0.05 && stats.mean <= 0.45) || (share >= 0.05 && share <= 0.35);
        if (stats.n >= 4 && capped && stats.min >= 0.03 && stats.cv <= 0.25) {
          out.push(
            processSignal(p.pid, {
              id: 'cpu.throttled',
              category: 'cpu',
              weight: 2.5,
              techniques: ['T1496'],
              text: `held a steady ${Math.round(stats.mean * 100)} % of a core (variation ${Math.round(stats.cv * 100)} %), the capped duty cycle of a throttled miner`,
              evidence,
            }),
          );
        }
      } else if (snapshot.windowMs === 0 && p.cpuCores >= 0.8 && p.startTime) {
        const ageS = (Date.parse(snapshot.takenAt) - Date.parse(p.startTime)) / 1000;
        if (ageS >= 300) {
          out.push(
            processSignal(p.pid, {
              id: 'cpu.lifetime_high',
              category: 'cpu',
              weight: 1.5,
              techniques: ['T1496'],
              text: `has averaged ${Math.round(p.cpuCores * 100)} % of a core since it started ${Math.round(ageS / 60)} min ago`,
              evidence,
            }),
          );
        }
      }
    }
    return out;
  },
};
