import type { MetricSample } from '../store/types.ts';
import type { ImpactConfig } from './config.ts';

/**
 * What a miner cost: CPU-seconds integrated from the agent's metric
 * samples, energy from a watts-per-core model, money at a price per kWh,
 * the share of the host it took, and what the attacker may have earned.
 * Pure: the samples, the window and the settings come in, numbers and the
 * assumptions they rest on go out. Where nothing was measured the answer
 * says so (null and a reason), never 0.
 *
 * How samples become CPU-seconds (docs/incidents.md, "Impact"):
 * - a sample as sent (`resolutionS` 0) holds the cores the process kept
 *   busy then; it stands for the time up to the next sample of the same
 *   process when that comes within GAP_INTERVALS sample intervals, else
 *   for one interval (a longer silence is a gap: not measured);
 * - a bucket (300 s, 3600 s) holds the mean of its samples; it stands for
 *   `samples × interval` seconds of its length (all of it when that is
 *   more), placed at its start: a bucket with fewer samples than its length
 *   holds was partly unmeasured, and where in it is not known;
 * - everything is clipped to the window.
 */

/** A silence longer than this many sample intervals is a gap, not filled. */
export const GAP_INTERVALS = 3;
/** Gaps listed (the total is always given). */
const MAX_GAPS = 20;
/** Processes listed per incident. */
export const MAX_PROCESSES = 50;

/**
 * The defaults, each an assumption the report names (docs/incidents.md
 * gives the reasoning): 15 W per busy core (server CPUs' TDP per core is
 * about 4–12 W, plus memory, fans and power-supply losses), 0.25 EUR per
 * kWh (EU non-household prices 2023–24 lie around 0.15–0.30), 500 H/s per
 * core for RandomX (XMRig benchmark results of current desktop and server
 * cores run from about 300 to over 1,000 H/s per core; 500 is middling), 60
 * H/s per core for CryptoNight (the original, pre-2019 algorithm).
 */
export const IMPACT_DEFAULTS = {
  wattsPerCore: 15,
  pricePerKwh: 0.25,
  currency: 'EUR',
  hashratePerCore: { randomx: 500, cryptonight: 60 } as Readonly<Record<string, number>>,
} as const;

/** Protocol constants of coins whose rules fix them (a coin's price and network hash rate are configured, never shipped). */
export const KNOWN_COINS: Readonly<
  Record<string, { blockReward: number; blockTimeS: number; algorithm: string; unit: string }>
> = {
  // Tail emission (0.6 XMR a block since June 2022), a block every two minutes, RandomX since November 2019.
  monero: { blockReward: 0.6, blockTimeS: 120, algorithm: 'randomx', unit: 'XMR' },
};

export interface CoinSettings {
  price: number;
  networkHashrate: number;
  blockReward: number;
  blockTimeS: number;
  algorithm: string;
}

export interface ImpactSettings {
  wattsPerCore: number;
  pricePerKwh: number;
  currency: string;
  hashratePerCore: Readonly<Record<string, number>>;
  coins: Readonly<Record<string, CoinSettings>>;
  /** Which values are the built-in defaults rather than configured. */
  defaulted: { wattsPerCore: boolean; pricePerKwh: boolean; currency: boolean; hashrates: readonly string[] };
}

/** The config file's `cases.impact` over the defaults. */
export function impactSettings(cfg: ImpactConfig | undefined): ImpactSettings {
  const c = cfg ?? {};
  const hashratePerCore: Record<string, number> = { ...IMPACT_DEFAULTS.hashratePerCore };
  for (const [k, v] of Object.entries(c.hashrate_per_core ?? {})) hashratePerCore[k] = v;
  const coins: Record<string, CoinSettings> = {};
  for (const [name, coin] of Object.entries(c.coins ?? {})) {
    const known = KNOWN_COINS[name];
    const blockReward = coin.block_reward ?? known?.blockReward;
    const blockTimeS = coin.block_time_s ?? known?.blockTimeS;
    const algorithm = coin.algorithm ?? known?.algorithm;
    // The config schema refuses an unknown coin without them; a caller passing raw values gets the coin left out.
    if (blockReward === undefined || blockTimeS === undefined || algorithm === undefined) continue;
    coins[name] = {
      price: coin.price,
      networkHashrate: coin.network_hashrate,
      blockReward,
      blockTimeS,
      algorithm,
    };
  }
  return {
    wattsPerCore: c.watts_per_core ?? IMPACT_DEFAULTS.wattsPerCore,
    pricePerKwh: c.price_per_kwh ?? IMPACT_DEFAULTS.pricePerKwh,
    currency: c.currency ?? IMPACT_DEFAULTS.currency,
    hashratePerCore,
    coins,
    defaulted: {
      wattsPerCore: c.watts_per_core === undefined,
      pricePerKwh: c.price_per_kwh === undefined,
      currency: c.currency === undefined,
      hashrates: Object.keys(IMPACT_DEFAULTS.hashratePerCore).filter(
        (k) => c.hashrate_per_core?.[k] === undefined,
      ),
    },
  };
}

/**
 * The metric subject the agent sends for a process (src/agent/agent.ts
 * `metrics()`): `pid:start`, the start time as the finding's
 * `process.start` carries it (empty when unknown). Undefined without a pid.
 */
export function processSubject(
  p: { pid?: number | undefined; start?: string | undefined } | undefined,
): string | undefined {
  if (p?.pid === undefined || !Number.isInteger(p.pid)) return undefined;
  return `${p.pid}:${p.start ?? ''}`.slice(0, 500);
}

/** Phases in which the miner may still run; the move out of them ends the impact window. */
const MINING_PHASES: ReadonlySet<string> = new Set(['discovery', 'isolation', 'forensics']);

export interface ImpactWindow {
  from: string;
  to: string;
  /** The incident is still before eradication: `to` is now. */
  running: boolean;
}

/**
 * From the first sighting of the incident's first finding (or the opening,
 * when that is earlier, or when it holds none) to the move into eradication
 * or later (recovery, review, closed: skipping is allowed) of the current
 * cycle; now while the incident is still in discovery, isolation or
 * forensics.
 */
export function impactWindow(o: {
  firstSeen: string | null;
  openedAt: string;
  phase: string;
  phaseAt: string;
  events: readonly { kind: string; at: string; data: Record<string, unknown> }[];
  now: string;
}): ImpactWindow {
  const from = o.firstSeen !== null && o.firstSeen < o.openedAt ? o.firstSeen : o.openedAt;
  if (MINING_PHASES.has(o.phase)) return { from, to: o.now < from ? from : o.now, running: true };
  let end: string | undefined;
  for (const e of o.events) {
    if (e.kind !== 'phase') continue;
    const f = e.data['from'];
    const t = e.data['to'];
    if (typeof f === 'string' && typeof t === 'string' && MINING_PHASES.has(f) && !MINING_PHASES.has(t))
      end = e.at;
  }
  const to = end ?? o.phaseAt;
  return { from, to: to < from ? from : to, running: false };
}

export interface ImpactInput {
  window: ImpactWindow;
  /** The miner's processes (metric subjects) and their samples; at most MAX_PROCESSES are used. */
  processes: readonly { subject: string; label?: string; samples: readonly MetricSample[] }[];
  /** The sample interval the fleet is configured with, seconds (used unless the samples show their own). */
  intervalS: number;
  /** The host's cores, when known. */
  hostCores: number | null;
  /** Marginal watts of a busy core measured on the host (its agent's RAPL fit), when known: used instead of the model. */
  measuredWattsPerCore?: number | null;
  /** Coins of the incident's validated wallets (monero, bytecoin). */
  coins: readonly string[];
  settings: ImpactSettings;
  /** Why there are no samples at all, when the caller knows (no agent for the host, no process named). */
  unmeasuredReason?: string;
  /** The caller stopped reading samples at its bound. */
  truncated?: boolean;
}

export interface ImpactEarning {
  coin: string;
  algorithm: string;
  hashrate_per_core: number;
  /** Hashes the measured CPU time computed at that rate. */
  hashes: number;
  coins: number;
  value: number;
  currency: string;
}

export interface Impact {
  /** Whether any sample of the miner fell in the window. */
  measured: boolean;
  window: ImpactWindow & { seconds: number };
  /** Core-seconds the miner's processes used in the measured part of the window; null: not measured. */
  cpu_seconds: number | null;
  /** Seconds of the window covered by samples (any of the processes). */
  measured_seconds: number;
  /** measured_seconds / window seconds (0..1). */
  coverage: number;
  /** Seconds of the window not covered. */
  not_measured_seconds: number;
  /** The longest stretches without samples (at most 20, oldest first), and how many there are. */
  gaps: { from: string; to: string; seconds: number }[];
  gap_count: number;
  /** Mean cores busy while measured. */
  mean_cores: number | null;
  host_cores: number | null;
  /** mean_cores / host_cores: the share of the host's capacity taken; null when either is unknown. */
  host_share: number | null;
  sample_interval_s: number;
  energy_kwh: number | null;
  cost: number | null;
  currency: string;
  watts_per_core: number;
  /** Where watts_per_core comes from: the host's RAPL fit, the config file, or the documented default. */
  watts_per_core_source: 'rapl' | 'configured' | 'default';
  price_per_kwh: number;
  earnings: ImpactEarning[];
  processes: {
    subject: string;
    label: string | null;
    cpu_seconds: number;
    measured_seconds: number;
    samples: number;
    buckets: number;
  }[];
  /** What the numbers rest on, in words. */
  assumptions: string[];
  /** What is not measured or not estimated, and why. */
  not_measured: string[];
}

interface Point {
  t: number;
  /** Bucket length in ms; 0 for a sample as sent. */
  r: number;
  cpu: number;
  n: number | undefined;
}

interface Span {
  s: number;
  e: number;
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

function points(samples: readonly MetricSample[]): Point[] {
  const out: Point[] = [];
  for (const s of samples) {
    const t = Date.parse(s.at);
    const cpu = s.cpu;
    if (!Number.isFinite(t) || typeof cpu !== 'number' || !Number.isFinite(cpu) || cpu < 0) continue;
    const r = Math.max(0, (s.resolutionS ?? 0) * 1000);
    out.push({ t, r: Number.isFinite(r) ? r : 0, cpu, n: s.samples });
  }
  return out.sort((a, b) => a.t - b.t || a.r - b.r);
}

/** The median spacing of consecutive samples as sent (ms), when there are at least three spacings. */
function observedInterval(all: readonly Point[][]): number | undefined {
  const deltas: number[] = [];
  for (const pts of all) {
    for (let i = 1; i < pts.length; i++) {
      const a = pts[i - 1]!;
      const b = pts[i]!;
      if (a.r === 0 && b.r === 0 && b.t > a.t) deltas.push(b.t - a.t);
    }
  }
  if (deltas.length < 3) return undefined;
  deltas.sort((a, b) => a - b);
  const mid = deltas.length >> 1;
  const m = deltas.length % 2 === 1 ? deltas[mid]! : (deltas[mid - 1]! + deltas[mid]!) / 2;
  return Math.min(3_600_000, Math.max(1000, m));
}

/** Core-milliseconds and the spans (clipped to the window) one process's points stand for. */
function integrate(pts: readonly Point[], from: number, to: number, intervalMs: number) {
  const gapMs = GAP_INTERVALS * intervalMs;
  let coreMs = 0;
  let raw = 0;
  let buckets = 0;
  const spans: Span[] = [];
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    let len: number;
    if (p.r > 0) {
      len = p.n !== undefined && Number.isFinite(p.n) && p.n >= 0 ? Math.min(p.r, p.n * intervalMs) : p.r;
    } else {
      const next = pts[i + 1];
      const dt = next === undefined ? Number.POSITIVE_INFINITY : next.t - p.t;
      len = dt <= gapMs ? dt : intervalMs;
    }
    const s = Math.max(p.t, from);
    const e = Math.min(p.t + len, to);
    if (e <= s) continue;
    if (p.r > 0) buckets++;
    else raw++;
    coreMs += p.cpu * (e - s);
    spans.push({ s, e });
  }
  return { coreMs, spans, raw, buckets };
}

function union(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.s - b.s);
  const out: Span[] = [];
  for (const sp of sorted) {
    const last = out[out.length - 1];
    if (last && sp.s <= last.e) last.e = Math.max(last.e, sp.e);
    else out.push({ ...sp });
  }
  return out;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Numbers for reports: at most `digits` significant digits, no exponent for everyday sizes. */
export function formatNumber(x: number, digits = 4): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toLocaleString('en-GB');
  if (abs >= 1) return String(round(x, Math.max(0, digits - 1 - Math.floor(Math.log10(abs)))));
  if (abs >= 1e-6) return String(Number(x.toPrecision(digits)));
  return x.toExponential(digits - 1);
}

/** Money: two decimals from one unit up, else the significant digits (a miner caught early costs cents). */
export function formatMoney(x: number, currency: string): string {
  const abs = Math.abs(x);
  const text = abs >= 1 || abs === 0 ? x.toFixed(2) : String(Number(x.toPrecision(3)));
  return `${text} ${currency}`;
}

/** A duration in words: 90 → "1 min 30 s". */
export function formatSeconds(s: number): string {
  const total = Math.round(s);
  if (total < 60) return `${total} s`;
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const parts: string[] = [];
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (sec && !d) parts.push(`${sec} s`);
  return parts.join(' ');
}

export function computeImpact(input: ImpactInput): Impact {
  const cfg = input.settings;
  const from = Date.parse(input.window.from);
  const to = Math.max(from, Date.parse(input.window.to));
  const windowMs = to - from;
  const procs = input.processes.slice(0, MAX_PROCESSES);
  const all = procs.map((p) => points(p.samples));
  const observed = observedInterval(all);
  const configuredMs = Math.min(3_600_000, Math.max(1000, input.intervalS * 1000));
  const intervalMs = observed ?? configuredMs;

  let coreMs = 0;
  const spans: Span[] = [];
  const processes: Impact['processes'] = [];
  for (const [i, p] of procs.entries()) {
    const r = integrate(all[i]!, from, to, intervalMs);
    coreMs += r.coreMs;
    spans.push(...r.spans);
    processes.push({
      subject: p.subject,
      label: p.label ?? null,
      cpu_seconds: round(r.coreMs / 1000, 3),
      measured_seconds: round(union(r.spans).reduce((a, s) => a + s.e - s.s, 0) / 1000, 3),
      samples: r.raw,
      buckets: r.buckets,
    });
  }
  const covered = union(spans);
  const measuredMs = covered.reduce((a, s) => a + s.e - s.s, 0);
  const gapsAll: Span[] = [];
  let cursor = from;
  for (const s of covered) {
    if (s.s - cursor >= 1000) gapsAll.push({ s: cursor, e: s.s });
    cursor = Math.max(cursor, s.e);
  }
  if (to - cursor >= 1000) gapsAll.push({ s: cursor, e: to });
  const measured = spans.length > 0;

  const assumptions: string[] = [];
  const notMeasured: string[] = [];
  const intervalS = intervalMs / 1000;
  assumptions.push(
    `Impact window ${input.window.from} → ${input.window.to}${input.window.running ? ' (still running: the incident has not reached eradication)' : ' (first finding to the move into eradication or later)'}.`,
    `CPU time is integrated from the agent's samples of the miner's processes: each sample stands for the time to the next one when that comes within ${GAP_INTERVALS} sample intervals (${formatSeconds(GAP_INTERVALS * intervalS)}), else for one interval; longer silences are not measured. Sample interval ${formatSeconds(intervalS)} (${observed !== undefined ? 'the median spacing of the samples' : "the fleet's configured interval"}).`,
  );
  if (processes.some((p) => p.buckets > 0))
    assumptions.push(
      'Older samples are kept as 5-minute or 1-hour averages: such a bucket counts for its number of samples × the interval (at most its length).',
    );
  const metered =
    input.measuredWattsPerCore !== undefined &&
    input.measuredWattsPerCore !== null &&
    input.measuredWattsPerCore > 0
      ? input.measuredWattsPerCore
      : null;
  const wattsPerCore = metered ?? cfg.wattsPerCore;
  const energyKwh = measured ? ((coreMs / 1000) * wattsPerCore) / 3.6e6 : null;
  const cost = energyKwh === null ? null : energyKwh * cfg.pricePerKwh;
  assumptions.push(
    metered !== null
      ? `Energy: ${formatNumber(metered)} W per busy core, measured on the host: its agent fits the CPU packages' power (RAPL energy counters) against the busy cores, and this is the slope — what one more busy core costs, the idle floor left out. Memory, disks, fans and power-supply losses are not in the counters.`
      : `Energy: ${formatNumber(cfg.wattsPerCore)} W per busy core${cfg.defaulted.wattsPerCore ? ' (the default, an assumption: server CPUs draw about 4–12 W per core at full load, plus memory, fans and power-supply losses; set cases.impact.watts_per_core)' : ' (configured)'}. Modelled, not metered: the host's agent reported no RAPL measurement (no counters, as in most virtual machines, or not enough variation in load yet).`,
    `Electricity at ${formatNumber(cfg.pricePerKwh)} ${cfg.currency}/kWh${cfg.defaulted.pricePerKwh ? ' (the default, an assumption in the range of EU non-household prices; set cases.impact.price_per_kwh)' : ' (configured)'}.`,
  );

  if (!measured) {
    notMeasured.push(
      `Cost: not measured — ${input.unmeasuredReason ?? 'no metric sample of the miner’s processes falls in the impact window'}. No number is given rather than an invented one.`,
    );
  } else if (measuredMs < windowMs) {
    notMeasured.push(
      `Cost: ${formatSeconds((windowMs - measuredMs) / 1000)} of the ${formatSeconds(windowMs / 1000)} window have no sample and are not counted (the figures cover ${Math.round((measuredMs / Math.max(1, windowMs)) * 1000) / 10} % of it: a lower bound).`,
    );
  }
  if (input.truncated)
    notMeasured.push('Samples: more than the bound were stored; the oldest were left out (a lower bound).');

  const meanCores = measured && measuredMs > 0 ? coreMs / measuredMs : null;
  const hostCores = input.hostCores !== null && input.hostCores > 0 ? input.hostCores : null;
  const hostShare = meanCores !== null && hostCores !== null ? meanCores / hostCores : null;
  if (measured && hostCores === null)
    notMeasured.push(
      'Share of host capacity: unknown — no agent has reported how many CPUs the host has (agents report it with every heartbeat since migration 0009).',
    );

  const earnings: ImpactEarning[] = [];
  const coins = [...new Set(input.coins)].sort().slice(0, 10);
  if (!measured) {
    notMeasured.push('Attacker earnings: not estimated — no CPU time was measured.');
  } else if (coins.length === 0) {
    notMeasured.push(
      'Attacker earnings: not estimated — the coin is unknown (no validated wallet among the indicators).',
    );
  } else {
    for (const coin of coins) {
      const c = cfg.coins[coin];
      if (!c) {
        notMeasured.push(
          `Attacker earnings in ${coin}: not estimated — no price and network hash rate configured (cases.impact.coins.${coin}).`,
        );
        continue;
      }
      const rate = cfg.hashratePerCore[c.algorithm];
      if (rate === undefined) {
        notMeasured.push(
          `Attacker earnings in ${coin}: not estimated — no hash rate per core configured for ${c.algorithm} (cases.impact.hashrate_per_core).`,
        );
        continue;
      }
      const hashes = rate * (coreMs / 1000);
      const mined = (hashes / c.networkHashrate) * (c.blockReward / c.blockTimeS);
      earnings.push({
        coin,
        algorithm: c.algorithm,
        hashrate_per_core: rate,
        hashes: Math.round(hashes),
        coins: Number(mined.toPrecision(6)),
        value: Number((mined * c.price).toPrecision(6)),
        currency: cfg.currency,
      });
      assumptions.push(
        `Earnings in ${coin}: ${formatNumber(rate)} H/s per busy core for ${c.algorithm}${cfg.defaulted.hashrates.includes(c.algorithm) ? ' (the default, an assumption; set cases.impact.hashrate_per_core)' : ' (configured)'}; network ${formatNumber(c.networkHashrate)} H/s, ${formatNumber(c.blockReward)} coins a block every ${formatNumber(c.blockTimeS)} s, ${formatNumber(c.price)} ${cfg.currency} a coin (configured${KNOWN_COINS[coin] ? `; block reward and time are ${coin}'s protocol values unless configured` : ''}). Coins = hashes / network hash rate × reward / block time; a pool's fee is not deducted.`,
      );
    }
    if (earnings.length > 1)
      assumptions.push('Several coins: each estimate assumes all of the measured CPU time mined that coin.');
  }

  return {
    measured,
    window: { ...input.window, seconds: round(windowMs / 1000, 3) },
    cpu_seconds: measured ? round(coreMs / 1000, 3) : null,
    measured_seconds: round(measuredMs / 1000, 3),
    coverage: windowMs > 0 ? round(measuredMs / windowMs, 4) : 0,
    not_measured_seconds: round((windowMs - measuredMs) / 1000, 3),
    gaps: gapsAll
      .slice(0, MAX_GAPS)
      .map((g) => ({ from: iso(g.s), to: iso(g.e), seconds: round((g.e - g.s) / 1000, 3) })),
    gap_count: gapsAll.length,
    mean_cores: meanCores === null ? null : round(meanCores, 3),
    host_cores: hostCores,
    host_share: hostShare === null ? null : round(hostShare, 4),
    sample_interval_s: round(intervalS, 3),
    // Significant digits, not decimals: a miner caught in minutes costs fractions of a cent, which must not read as 0.
    energy_kwh: energyKwh === null ? null : Number(energyKwh.toPrecision(6)),
    cost: cost === null ? null : Number(cost.toPrecision(6)),
    currency: cfg.currency,
    watts_per_core: wattsPerCore,
    watts_per_core_source: metered !== null ? 'rapl' : cfg.defaulted.wattsPerCore ? 'default' : 'configured',
    price_per_kwh: cfg.pricePerKwh,
    earnings,
    processes,
    assumptions,
    not_measured: notMeasured,
  };
}
