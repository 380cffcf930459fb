/**
 * The agent's RAPL energy meter (src/agent/energy.ts) on a sysfs-shaped
 * tree: this machine, like most virtual machines and CI runners, has no
 * /sys/class/powercap, so the counters and /proc/stat are files the test
 * writes in the kernel's formats (the only stand-in in this file; the
 * impact test below uses the meter's figure the way the server does).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EnergyMeter } from '../../src/agent/energy.ts';
import { computeImpact, impactSettings } from '../../src/cases/impact.ts';

const root = mkdtempSync(join(tmpdir(), 'deminer-energy-'));
after(() => rmSync(root, { recursive: true, force: true }));

function host(name: string, packages: number, range = 262_143_328_850) {
  const dir = join(root, name);
  const powercap = join(dir, 'powercap');
  const proc = join(dir, 'proc');
  mkdirSync(proc, { recursive: true });
  for (let p = 0; p < packages; p++) {
    mkdirSync(join(powercap, `intel-rapl:${p}`, `intel-rapl:${p}:0`), { recursive: true });
    writeFileSync(join(powercap, `intel-rapl:${p}`, 'max_energy_range_uj'), `${range}\n`);
    // A sub-zone (the cores of the package) that must not be counted twice.
    writeFileSync(join(powercap, `intel-rapl:${p}`, `intel-rapl:${p}:0`, 'energy_uj'), '0\n');
  }
  let t = 0;
  let busy = 0;
  const energy = new Array<number>(packages).fill(0);
  const write = () => {
    for (let p = 0; p < packages; p++)
      writeFileSync(join(powercap, `intel-rapl:${p}`, 'energy_uj'), `${Math.round(energy[p]!) % range}\n`);
    writeFileSync(
      join(proc, 'stat'),
      `cpu  ${busy} 0 0 ${1_000_000 + t} 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n`,
    );
  };
  write();
  const meter = new EnergyMeter({ powercap, proc, now: () => t });
  /** Runs `seconds` at `cores` busy cores drawing `watts` in all (split over the packages). */
  const run = (seconds: number, cores: number, watts: number) => {
    t += seconds * 1000;
    busy += cores * seconds * 100;
    for (let p = 0; p < packages; p++) energy[p]! += (watts / packages) * seconds * 1e6;
    write();
    meter.sample();
  };
  return { meter, run };
}

test('the slope of package power on busy cores: the idle floor is not charged to a core', () => {
  const { meter, run } = host('fit', 2);
  meter.sample();
  assert.equal(meter.available, true);
  // 30 W idle floor, 12 W for each busy core; load between 0.2 and 3.8 cores.
  for (let i = 0; i < 40; i++) {
    const cores = 0.2 + ((i * 7) % 19) / 5;
    run(10, cores, 30 + 12 * cores);
    if (i < 28) assert.equal(meter.wattsPerCore(), undefined, 'nothing before 30 samples');
  }
  assert.equal(meter.wattsPerCore(), 12);
});

test('a counter that wraps at max_energy_range_uj is read across the wrap', () => {
  const { meter, run } = host('wrap', 1, 5_000_000_000);
  meter.sample();
  for (let i = 0; i < 40; i++) {
    const cores = i % 2 === 0 ? 0.5 : 2.5;
    // 60 s at 21–45 W is 1,260–2,700 J a reading: the 5,000 J counter wraps every few readings.
    run(60, cores, 15 + 12 * cores);
  }
  assert.equal(meter.wattsPerCore(), 12);
});

test('a steady load gives no slope; a host without counters gives nothing', () => {
  const { meter, run } = host('steady', 1);
  meter.sample();
  for (let i = 0; i < 40; i++) run(10, 1, 40);
  assert.equal(meter.wattsPerCore(), undefined);
  const none = new EnergyMeter({ powercap: join(root, 'nothing'), proc: join(root, 'fit', 'proc') });
  assert.equal(none.available, false);
  none.sample();
  assert.equal(none.wattsPerCore(), undefined);
});

test('the impact uses a measured figure instead of the model, and says so', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 10, 30, 10, 0, s)).toISOString();
  const samples = [0, 10, 20, 30, 40, 50, 60].map((s) => ({
    hostId: 'h',
    at: at(s),
    subject: '1:x',
    cpu: 200,
  }));
  const base = {
    window: { from: at(0), to: at(60), running: false },
    processes: [{ subject: '1:x', samples }],
    intervalS: 10,
    hostCores: 4,
    coins: [],
    settings: impactSettings(undefined),
  };
  const modelled = computeImpact(base);
  const metered = computeImpact({ ...base, measuredWattsPerCore: 12 });
  assert.equal(modelled.watts_per_core_source, 'default');
  assert.equal(metered.watts_per_core_source, 'rapl');
  assert.equal(metered.watts_per_core, 12);
  assert.ok(metered.cpu_seconds !== null && metered.energy_kwh !== null);
  assert.equal(metered.energy_kwh, Number(((metered.cpu_seconds * 12) / 3.6e6).toPrecision(6)));
  assert.ok(metered.assumptions.some((a) => /RAPL/.test(a) && /measured on the host/.test(a)));
});
