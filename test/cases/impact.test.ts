/**
 * The impact model (src/cases/impact.ts) on hand-computed numbers: samples
 * as sent, 5-minute and 1-hour buckets, gaps, clipping to the window, no
 * samples at all, the energy and cost arithmetic, earnings, and the config
 * section that feeds it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { casesConfigSchema } from '../../src/cases/config.ts';
import {
  computeImpact,
  formatMoney,
  formatNumber,
  formatSeconds,
  type ImpactInput,
  impactSettings,
  impactWindow,
  processSubject,
} from '../../src/cases/impact.ts';
import type { MetricSample } from '../../src/store/types.ts';

const T0 = Date.parse('2026-11-03T10:00:00.000Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
const raw = (s: number, cpu: number, subject = '4242:x'): MetricSample => ({
  hostId: 'h',
  at: at(s),
  subject,
  cpu,
  resolutionS: 0,
});
const bucket = (s: number, len: number, cpu: number, samples: number): MetricSample => ({
  hostId: 'h',
  at: at(s),
  subject: '4242:x',
  cpu,
  resolutionS: len,
  samples,
});

function input(
  samples: MetricSample[],
  o: Partial<ImpactInput> & { from?: number; to?: number } = {},
): ImpactInput {
  return {
    window: { from: at(o.from ?? 0), to: at(o.to ?? 60), running: false },
    processes: [{ subject: '4242:x', samples }],
    intervalS: 10,
    hostCores: null,
    coins: [],
    settings: impactSettings(undefined),
    ...o,
  };
}

test('samples as sent: each stands for the time to the next; CPU-seconds, energy and cost by hand', () => {
  // 2 cores busy from 0 to 60 s, a sample every 10 s: 2 × 60 = 120 core-seconds.
  const samples = [0, 10, 20, 30, 40, 50, 60].map((s) => raw(s, 2));
  const r = computeImpact(input(samples));
  assert.equal(r.measured, true);
  assert.equal(r.cpu_seconds, 120);
  assert.equal(r.measured_seconds, 60);
  assert.equal(r.coverage, 1);
  assert.equal(r.gap_count, 0);
  assert.equal(r.mean_cores, 2);
  assert.equal(r.sample_interval_s, 10);
  // 120 s × 15 W = 1800 J = 0.0005 kWh; × 0.25 EUR = 0.000125 EUR.
  assert.equal(r.energy_kwh, 0.0005);
  assert.equal(r.cost, 0.000125);
  assert.equal(r.currency, 'EUR');
  assert.equal(r.host_share, null, 'no core count: unknown, not guessed');
  assert.ok(r.not_measured.some((l) => /Share of host capacity: unknown/.test(l)));
  assert.ok(r.assumptions.some((l) => /15 W per busy core \(the default, an assumption/.test(l)));
  assert.ok(r.assumptions.some((l) => /0\.25 EUR\/kWh \(the default/.test(l)));
  assert.deepEqual(r.processes, [
    { subject: '4242:x', label: null, cpu_seconds: 120, measured_seconds: 60, samples: 6, buckets: 0 },
  ]);
  // With the host's cores known: 2 of 8 cores = a quarter of its capacity.
  assert.equal(computeImpact(input(samples, { hostCores: 8 })).host_share, 0.25);
  // Configured prices: 0.0005 kWh × 0.40 USD, 30 W a core.
  const cfg = impactSettings({ watts_per_core: 30, price_per_kwh: 0.4, currency: 'USD' });
  const usd = computeImpact(input(samples, { settings: cfg }));
  assert.equal(usd.energy_kwh, 0.001);
  assert.equal(usd.cost, 0.0004);
  assert.ok(usd.assumptions.some((l) => /30 W per busy core \(configured\)/.test(l)));
});

test('a silence longer than three intervals is a gap: not measured, not filled', () => {
  // 1 core at 0, 10, 20, then nothing until 100, 110; window 0..120.
  const samples = [raw(0, 1), raw(10, 1), raw(20, 1), raw(100, 1), raw(110, 1)];
  const r = computeImpact(input(samples, { to: 120 }));
  // Spans 0–10, 10–20, 20–30 (one interval: the next sample is 80 s away), 100–110, 110–120.
  assert.equal(r.cpu_seconds, 50);
  assert.equal(r.measured_seconds, 50);
  assert.equal(r.not_measured_seconds, 70);
  assert.equal(r.coverage, 0.4167);
  assert.deepEqual(r.gaps, [{ from: at(30), to: at(100), seconds: 70 }]);
  assert.ok(r.not_measured.some((l) => /1 min 10 s of the 2 min window have no sample/.test(l)));
  // Two missed scans (30 s) are within three intervals: filled by the sample before.
  const filled = computeImpact(
    input([raw(0, 1), raw(10, 1), raw(20, 1), raw(50, 1), raw(60, 1)], { to: 70 }),
  );
  assert.equal(filled.cpu_seconds, 70);
  assert.equal(filled.gap_count, 0);
});

test('buckets: the mean times samples × interval, placed at the start; 1-hour buckets clipped to the window', () => {
  const samples = [
    bucket(0, 300, 1.5, 30), // full: 1.5 × 300 = 450
    bucket(300, 300, 0.5, 12), // 12 samples × 10 s = 120 s: 0.5 × 120 = 60
    raw(600, 2), // to the next: 2 × 10 = 20
    raw(610, 2), // the last: one interval, 2 × 10 = 20
  ];
  const r = computeImpact(input(samples, { to: 620 }));
  assert.equal(r.cpu_seconds, 550);
  assert.equal(r.measured_seconds, 440);
  assert.deepEqual(r.gaps, [{ from: at(420), to: at(600), seconds: 180 }]);
  assert.deepEqual(
    r.processes.map((p) => [p.samples, p.buckets]),
    [[2, 2]],
  );
  assert.ok(r.assumptions.some((l) => /5-minute or 1-hour averages/.test(l)));
  // A 1-hour bucket that began 30 min before the window: only its part inside counts (1 core × 1800 s).
  const hour = computeImpact(input([bucket(-1800, 3600, 1, 360)], { to: 1800 }));
  assert.equal(hour.cpu_seconds, 1800);
  assert.equal(hour.coverage, 1);
});

test('the interval comes from the samples when they show one (median spacing), else the configured one', () => {
  // Samples every 60 s though the fleet says 10 s: each stands for its 60 s (no gaps).
  const samples = [0, 60, 120, 180, 240].map((s) => raw(s, 1));
  const r = computeImpact(input(samples, { to: 300, intervalS: 10 }));
  assert.equal(r.sample_interval_s, 60);
  assert.equal(r.cpu_seconds, 300);
  assert.ok(r.assumptions.some((l) => /the median spacing of the samples/.test(l)));
  // Two samples only: the configured interval (10 s) applies; 60 s apart is a gap then.
  const two = computeImpact(input([raw(0, 1), raw(60, 1)], { to: 70, intervalS: 10 }));
  assert.equal(two.sample_interval_s, 10);
  assert.equal(two.cpu_seconds, 20);
  assert.equal(two.gap_count, 1);
});

test('no samples (or none in the window): not measured, never 0', () => {
  for (const samples of [[], [raw(-500, 3), raw(-490, 3)]]) {
    const r = computeImpact(input(samples, { unmeasuredReason: 'no agent reports for web01' }));
    assert.equal(r.measured, false);
    assert.equal(r.cpu_seconds, null);
    assert.equal(r.energy_kwh, null);
    assert.equal(r.cost, null);
    assert.equal(r.mean_cores, null);
    assert.deepEqual(r.earnings, []);
    assert.ok(r.not_measured.some((l) => /^Cost: not measured — no agent reports for web01/.test(l)));
    assert.ok(r.not_measured.some((l) => /earnings: not estimated — no CPU time/.test(l)));
  }
  const none = computeImpact({ ...input([]), processes: [] });
  assert.ok(none.not_measured.some((l) => /no metric sample of the miner/.test(l)));
  // Bad values (negative, NaN cpu) are left out, not counted.
  const bad = computeImpact(input([raw(0, -1), raw(10, Number.NaN)]));
  assert.equal(bad.measured, false);
});

test('several processes: CPU adds up, the measured time is their union', () => {
  const a = [0, 10, 20].map((s) => raw(s, 1, '1:a'));
  const b = [20, 30, 40, 50].map((s) => raw(s, 0.5, '2:b'));
  const r = computeImpact({
    ...input([]),
    processes: [
      { subject: '1:a', samples: a },
      { subject: '2:b', samples: b, label: '/tmp/.x/kswapd0' },
    ],
  });
  // a: 0–30 at 1 core = 30; b: 20–60 at 0.5 = 20.
  assert.equal(r.cpu_seconds, 50);
  assert.equal(r.measured_seconds, 60);
  assert.equal(r.processes[1]!.label, '/tmp/.x/kswapd0');
});

test('earnings: hashes / network hash rate × reward / block time × price, with the assumptions named', () => {
  const samples = [0, 10, 20, 30, 40, 50, 60].map((s) => raw(s, 2));
  const settings = impactSettings(
    casesConfigSchema.parse({ impact: { coins: { monero: { price: 150, network_hashrate: 5e9 } } } }).impact,
  );
  const r = computeImpact(input(samples, { settings, coins: ['monero'] }));
  // 120 core-s × 500 H/s = 60,000 hashes; 60,000 / 5e9 × 0.6 / 120 = 6e-8 XMR; × 150 = 9e-6 EUR.
  assert.deepEqual(r.earnings, [
    {
      coin: 'monero',
      algorithm: 'randomx',
      hashrate_per_core: 500,
      hashes: 60_000,
      coins: 6e-8,
      value: 0.000009,
      currency: 'EUR',
    },
  ]);
  assert.ok(
    r.assumptions.some((l) => /500 H\/s per busy core for randomx \(the default, an assumption/.test(l)),
  );
  // Unknown coin, unconfigured coin, unknown algorithm rate: each says why.
  assert.ok(
    computeImpact(input(samples, { settings })).not_measured.some((l) => /the coin is unknown/.test(l)),
  );
  assert.ok(
    computeImpact(input(samples, { coins: ['monero'] })).not_measured.some((l) =>
      /no price and network hash rate configured \(cases\.impact\.coins\.monero\)/.test(l),
    ),
  );
  const other = impactSettings(
    casesConfigSchema.parse({
      impact: {
        coins: {
          bytecoin: {
            price: 0.00001,
            network_hashrate: 1e8,
            block_reward: 100,
            block_time_s: 120,
            algorithm: 'cn-bcn',
          },
        },
      },
    }).impact,
  );
  assert.ok(
    computeImpact(input(samples, { settings: other, coins: ['bytecoin'] })).not_measured.some((l) =>
      /no hash rate per core configured for cn-bcn/.test(l),
    ),
  );
});

test('the cases.impact config: strict, bounded, and only monero may leave out its protocol values', () => {
  assert.deepEqual(casesConfigSchema.parse({}), {});
  assert.throws(() => casesConfigSchema.parse({ impact: { watts: 10 } }), /watts/);
  assert.throws(() => casesConfigSchema.parse({ impact: { currency: 'euro' } }), /ISO 4217/);
  assert.throws(() => casesConfigSchema.parse({ impact: { watts_per_core: -1 } }));
  assert.throws(
    () => casesConfigSchema.parse({ impact: { coins: { bytecoin: { price: 1, network_hashrate: 1 } } } }),
    /bytecoin needs block_reward/,
  );
  assert.throws(() =>
    casesConfigSchema.parse({ impact: { coins: { Monero: { price: 1, network_hashrate: 1 } } } }),
  );
  const s = impactSettings(
    casesConfigSchema.parse({ impact: { hashrate_per_core: { randomx: 1200 } } }).impact,
  );
  assert.equal(s.hashratePerCore['randomx'], 1200);
  assert.equal(s.hashratePerCore['cryptonight'], 60);
  assert.deepEqual(s.defaulted.hashrates, ['cryptonight']);
});

test('the window: first finding to the move into eradication or later; now while it runs; reopening', () => {
  const base = { firstSeen: at(-600), openedAt: at(0), now: at(5000) };
  assert.deepEqual(impactWindow({ ...base, phase: 'forensics', phaseAt: at(100), events: [] }), {
    from: at(-600),
    to: at(5000),
    running: true,
  });
  const phase = (s: number, from: string, to: string) => ({ kind: 'phase', at: at(s), data: { from, to } });
  const events = [
    phase(100, 'discovery', 'isolation'),
    phase(200, 'isolation', 'eradication'),
    phase(900, 'eradication', 'recovery'),
  ];
  assert.deepEqual(impactWindow({ ...base, phase: 'recovery', phaseAt: at(900), events }), {
    from: at(-600),
    to: at(200),
    running: false,
  });
  // A false positive closed from discovery ends there; a reopened one ends at its latest such move.
  const reopened = [
    ...events,
    phase(1000, 'recovery', 'closed'),
    phase(2000, 'closed', 'discovery'),
    phase(3000, 'discovery', 'closed'),
  ];
  assert.equal(impactWindow({ ...base, phase: 'closed', phaseAt: at(3000), events: reopened }).to, at(3000));
  // No finding (a manual incident): from the opening; a finding seen after the opening does not move it later.
  assert.equal(
    impactWindow({ ...base, firstSeen: null, phase: 'discovery', phaseAt: at(0), events: [] }).from,
    at(0),
  );
  assert.equal(
    impactWindow({ ...base, firstSeen: at(50), phase: 'discovery', phaseAt: at(0), events: [] }).from,
    at(0),
  );
});

test('process subjects as the agent writes them; number formats', () => {
  assert.equal(
    processSubject({ pid: 4242, start: '2026-11-03T09:00:00.000Z' }),
    '4242:2026-11-03T09:00:00.000Z',
  );
  assert.equal(processSubject({ pid: 7 }), '7:');
  assert.equal(processSubject({}), undefined);
  assert.equal(processSubject(undefined), undefined);
  assert.equal(formatMoney(0.000125, 'EUR'), '0.000125 EUR');
  assert.equal(formatMoney(12.345, 'EUR'), '12.35 EUR');
  assert.equal(formatNumber(120), '120');
  assert.equal(formatNumber(1234567), '1,234,567');
  assert.equal(formatNumber(0.0005), '0.0005');
  assert.equal(formatSeconds(70), '1 min 10 s');
  assert.equal(formatSeconds(90_000), '1 d 1 h');
});
