import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What one busy CPU core costs this host in watts, measured with the CPU
 * packages' RAPL energy counters (Linux powercap, `intel-rapl:N/energy_uj`;
 * AMD processors expose the same interface). The incident report multiplies
 * the miner's CPU-seconds by it instead of the configured model (issue 17).
 *
 * Package power rises with load from an idle floor the miner does not cause,
 * so the meter fits `power = idle + k × busy cores` over the agent's samples
 * (least squares on running sums: bounded memory) and reports `k`, the
 * marginal watts of one busy core — the same proportional-to-CPU-time idea
 * power meters such as Scaphandre and Kepler use, without charging the miner
 * for the idle floor. It reports nothing until the load has varied enough to
 * fit a slope (at least 30 samples, busy cores spread by 0.25 or more) or when
 * the host has no RAPL counters (virtual machines mostly do not).
 */

const MIN_SAMPLES = 30;
const MIN_SPREAD = 0.25;
/** Readings closer together than this are skipped (the counters update every ~1 ms, /proc/stat every tick). */
const MIN_GAP_MS = 2000;

interface Reading {
  at: number;
  /** µJ per package. */
  energy: number[];
  /** Busy jiffies of all CPUs together. */
  busy: number;
}

export interface EnergyMeterOptions {
  powercap?: string;
  proc?: string;
  /** USER_HZ (100 on every architecture deminer runs on). */
  clockTicks?: number;
  now?: () => number;
}

export class EnergyMeter {
  readonly #powercap: string;
  readonly #proc: string;
  readonly #hz: number;
  readonly #now: () => number;
  readonly #zones: { energy: string; range: number }[];
  #last: Reading | undefined;
  // Running sums of (x = busy cores, y = watts).
  #n = 0;
  #sx = 0;
  #sy = 0;
  #sxx = 0;
  #sxy = 0;
  #minX = Number.POSITIVE_INFINITY;
  #maxX = Number.NEGATIVE_INFINITY;

  constructor(o: EnergyMeterOptions = {}) {
    this.#powercap = o.powercap ?? '/sys/class/powercap';
    this.#proc = o.proc ?? '/proc';
    this.#hz = o.clockTicks ?? 100;
    this.#now = o.now ?? Date.now;
    this.#zones = this.#findZones();
  }

  /** Whether this host has package energy counters at all. */
  get available(): boolean {
    return this.#zones.length > 0;
  }

  /** The top-level package zones (`intel-rapl:0`, not their `:0:0` sub-zones, which the package already counts). */
  #findZones(): { energy: string; range: number }[] {
    let names: string[];
    try {
      names = readdirSync(this.#powercap);
    } catch {
      return [];
    }
    const out: { energy: string; range: number }[] = [];
    for (const n of names.sort()) {
      if (!/^(intel|amd)-rapl:\d+$/.test(n)) continue;
      const dir = join(this.#powercap, n);
      const range = Number(readText(join(dir, 'max_energy_range_uj')));
      if (readText(join(dir, 'energy_uj')) === undefined) continue;
      out.push({
        energy: join(dir, 'energy_uj'),
        range: Number.isFinite(range) && range > 0 ? range : 2 ** 32,
      });
    }
    return out.slice(0, 16);
  }

  #read(): Reading | undefined {
    const energy: number[] = [];
    for (const z of this.#zones) {
      const v = Number(readText(z.energy));
      if (!Number.isFinite(v)) return undefined;
      energy.push(v);
    }
    const cpu = /^cpu\s+(.*)$/m.exec(readText(join(this.#proc, 'stat')) ?? '');
    if (!cpu) return undefined;
    const f = cpu[1]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return { at: this.#now(), energy, busy };
  }

  /** Takes a reading (call it every scan); pairs it with the previous one. */
  sample(): void {
    if (!this.available) return;
    const r = this.#read();
    if (!r) return;
    const prev = this.#last;
    if (prev && r.at - prev.at < MIN_GAP_MS) return;
    this.#last = r;
    if (!prev) return;
    const seconds = (r.at - prev.at) / 1000;
    let joules = 0;
    for (let i = 0; i < r.energy.length; i++) {
      let d = r.energy[i]! - (prev.energy[i] ?? 0);
      // The counter wrapped at max_energy_range_uj.
      if (d < 0) d += this.#zones[i]!.range;
      joules += d / 1e6;
    }
    const watts = joules / seconds;
    const cores = (r.busy - prev.busy) / this.#hz / seconds;
    if (!(watts >= 0 && watts < 100_000 && cores >= 0 && cores < 100_000)) return;
    this.#n++;
    this.#sx += cores;
    this.#sy += watts;
    this.#sxx += cores * cores;
    this.#sxy += cores * watts;
    if (cores < this.#minX) this.#minX = cores;
    if (cores > this.#maxX) this.#maxX = cores;
  }

  /** Marginal watts per busy core, once the samples allow a fit; undefined before (or without counters). */
  wattsPerCore(): number | undefined {
    if (this.#n < MIN_SAMPLES || this.#maxX - this.#minX < MIN_SPREAD) return undefined;
    const n = this.#n;
    const varX = this.#sxx / n - (this.#sx / n) ** 2;
    if (!(varX > 1e-9)) return undefined;
    const k = (this.#sxy / n - (this.#sx / n) * (this.#sy / n)) / varX;
    if (!(k > 0.1 && k < 1000)) return undefined;
    return Math.round(k * 100) / 100;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}
