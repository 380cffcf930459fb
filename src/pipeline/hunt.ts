import { availableParallelism } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ParseIssue } from '../core/errors.ts';
import { describeError, UsageError } from '../core/errors.ts';
import type { EcsEvent } from '../core/event.ts';
import type { Finding } from '../core/finding.ts';
import { compareFindings, dedupeFindings } from '../core/finding.ts';
import { HostNames } from '../core/host-identity.ts';
import type { Severity } from '../core/severity.ts';
import { atLeast } from '../core/severity.ts';
import type { Source } from '../core/stages.ts';
import { networkLists } from '../detect/network/lists.ts';
import type { NetworkDetectorOptions } from '../detect/network/network-detector.ts';
import { NetworkDetector } from '../detect/network/network-detector.ts';
import { IntelMatchDetector } from '../detect/pool-match/intel-match-detector.ts';
import type { SharedLearnedPool } from '../detect/pool-match/learned-pools.ts';
import { PoolCheck } from '../detect/pool-match/pool-check.ts';
import type { EngineStats, SigmaEngine } from '../detect/sigma/engine.ts';
import { correlationsOf, sigmaEngineOf } from '../detect/sigma/index.ts';
import type { SigmaRule } from '../detect/sigma/rule.ts';
import { WalletDetector } from '../detect/wallet/wallet-detector.ts';
import type { IntelEngine } from '../intel/index.ts';
import { NETWORK_SOURCES, SOURCES } from '../sources/registry.ts';
import { HuntWorkers } from './hunt-workers.ts';
import type { InputCounters } from './read-input.ts';
import { readInput } from './read-input.ts';
import { recognise } from './recognise.ts';
import type { TimeWindow } from './time-window.ts';
import type { InputFile } from './walk.ts';
import { walkInputs } from './walk.ts';

export interface HuntProgress {
  filesDone: number;
  files: number;
  bytesDone: number;
  bytes: number;
  events: number;
}

export interface HuntOptions {
  paths: readonly string[];
  /** Sigma rules to run over event-log records (loaded by the caller); none: no Sigma. */
  rules?: readonly SigmaRule[];
  /**
   * The same rules already compiled, for callers that hunt many times (a
   * long-lived process, a benchmark): used on the main thread instead of
   * compiling `rules` again. Worker threads still compile their own.
   */
  engine?: SigmaEngine;
  /** Threat intelligence for the pool checks (event logs and network); without it only the built-in pool list. */
  intel?: IntelEngine | undefined;
  /** Pools the fleet learned elsewhere (the server's list), known from the first record on. */
  learnedPools?: readonly SharedLearnedPool[] | undefined;
  /** Only events at or after / before these times (ms since epoch), of every kind; events without a time are kept. */
  from?: number;
  to?: number;
  /** Event ids of event-log records to keep (`--include-eid`) and to leave out (`--exclude-eid`). */
  includeIds?: readonly string[];
  excludeIds?: readonly string[];
  /** The input formats read (default: all of them). */
  sources?: readonly Source[];
  /**
   * Lanes matching event-log files (default: one per core): this thread plus
   * `threads - 1` worker processes. Stateful detectors (pool checks, network
   * windows, Sigma correlations) stay on this thread, fed in input order, so
   * every lane count gives the same findings.
   */
  threads?: number;
  /**
   * Findings below this severity are dropped as they are made, not held to
   * the end: a capture with 400,000 noisy hosts must not fill memory with
   * findings nobody asked for.
   */
  minLevel?: Severity;
  /** Names for addresses known beforehand (an asset map); names learned from the inputs add to it. */
  hostNames?: HostNames;
  /** Settings of the network detector (thresholds, windows). */
  network?: Partial<Omit<NetworkDetectorOptions, 'lists' | 'intel' | 'hostNames'>>;
  signal?: AbortSignal;
  onProgress?: (p: HuntProgress) => void;
  /** Each finding as it is made (streaming output); findings are also returned. */
  onFinding?: (f: Finding) => void;
  /** Each input problem as it is met (`--strict` aborts the run on the first). */
  onIssue?: (i: ParseIssue) => void;
}

export interface HuntStats {
  files: number;
  filesByKind: Record<string, number>;
  /** Files in walked folders that no source recognised. */
  unrecognized: number;
  /** Events read: event-log records and network observations. */
  events: number;
  /** Events left out by --from/--to. */
  outOfRange: number;
  issues: number;
  bytes: number;
  ms: number;
  /** Threads that matched event-log files (1: all on the main thread). */
  threads: number;
  /** Counters of the sources (packets, malformed frames, …) summed over inputs. */
  sources: Record<string, number>;
  /** Counters of the stateful detectors (entries evicted from bounded tables, …). */
  detectors: Record<string, number>;
  /** Distinct source addresses of network observations (counted up to MAX_COUNTED_HOSTS). */
  hosts: number;
  /** Earliest and latest time of the events used (ISO-8601), when any had one. */
  first?: string;
  last?: string;
}

/** Source addresses counted for the summary; past this many the count stops (the table is bounded). */
const MAX_COUNTED_HOSTS = 100_000;

export interface HuntResult {
  /** De-duplicated by fingerprint, most severe first. */
  findings: Finding[];
  issues: ParseIssue[];
  stats: HuntStats;
  /** The Sigma engine's figures and the rule problems met compiling (none without rules). */
  sigma?: { stats: EngineStats; issues: ParseIssue[] };
}

/** Issues beyond this many are counted but not kept. */
const MAX_KEPT_ISSUES = 1000;

interface Kinded extends InputFile {
  source: Source;
}

/**
 * One-shot pipeline over files and folders (`deminer hunt`, `sniff -r`):
 * each file's format is found by content, its events pass the time window,
 * then the detectors: Sigma and the pool checks for event-log records, the
 * network rules for captures and network logs. Event-log files are matched in
 * parallel lanes (this thread and worker processes) when there are several;
 * every stateful detector lives on this thread and sees the inputs in the
 * order they were given. Bad input is
 * counted, reported and skipped.
 */
export async function hunt(opts: HuntOptions): Promise<HuntResult> {
  const t0 = performance.now();
  const window: TimeWindow = {};
  if (opts.from !== undefined) window.from = opts.from;
  if (opts.to !== undefined) window.to = opts.to;
  if (opts.includeIds) window.includeIds = opts.includeIds;
  if (opts.excludeIds) window.excludeIds = opts.excludeIds;
  const sources = opts.sources ?? SOURCES;
  const walked = await walkInputs(opts.paths);
  const issues: ParseIssue[] = [];
  const stats: HuntStats = {
    files: 0,
    filesByKind: {},
    unrecognized: 0,
    events: 0,
    outOfRange: 0,
    issues: 0,
    bytes: 0,
    ms: 0,
    threads: 1,
    sources: {},
    detectors: {},
    hosts: 0,
  };
  const hosts = new Set<string>();
  let firstMs = Number.POSITIVE_INFINITY;
  let lastMs = Number.NEGATIVE_INFINITY;
  const seenAt = (ms: number): void => {
    if (!Number.isFinite(ms)) return;
    if (ms < firstMs) firstMs = ms;
    if (ms > lastMs) lastMs = ms;
  };
  const addIssue = (i: ParseIssue): void => {
    stats.issues++;
    if (issues.length < MAX_KEPT_ISSUES) issues.push(i);
    opts.onIssue?.(i);
  };
  for (const i of walked.issues) addIssue(i);
  const findings: Finding[] = [];
  const minLevel = opts.minLevel ?? 'low';
  const emit = (f: Finding): void => {
    if (!atLeast(f.severity, minLevel)) return;
    findings.push(f);
    opts.onFinding?.(f);
  };
  const emitAll = (fs: readonly Finding[]): void => {
    for (const f of fs) emit(f);
  };

  // Formats first (cheap: the first 4 KiB of each file), so the work can be planned.
  const inputs: Kinded[] = [];
  for (const file of walked.files) {
    const source = recognise(file, sources, addIssue);
    if (source === undefined) continue;
    if (source === 'unknown') {
      stats.unrecognized++;
      continue;
    }
    inputs.push({ ...file, source });
  }

  const lists = networkLists();
  const hostNames = opts.hostNames ?? new HostNames();
  let network: NetworkDetector | undefined;
  const networkDetector = (): NetworkDetector => {
    network ??= new NetworkDetector({ ...opts.network, lists, intel: opts.intel, hostNames, pools });
    return network;
  };
  // One pool matcher for the run: event logs and captures feed it what they saw (evidence `seen_in`),
  // and a pool learned from mining in a capture is known to the logs read after it.
  const pools = new PoolCheck({ intel: opts.intel, builtinPools: lists.poolDomains });
  if (opts.learnedPools) pools.seedLearned(opts.learnedPools);
  // DNS queries and connections in event logs are checked against intel beside the Sigma rules.
  const poolMatch = new IntelMatchDetector({ pools });
  // Wallet addresses in command lines and start-up values; stateless, so worker lanes run their own.
  const wallets = new WalletDetector();

  // Sigma rules that the pool matcher covers (written from its own list) would report each sighting twice.
  const rules = opts.rules ? withoutCovered(opts.rules, poolMatch.rules) : undefined;
  const logInputs = inputs.filter((f) => !NETWORK_SOURCES.includes(f.source));
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), logInputs.length));
  let sigma: SigmaEngine | undefined;
  let workers: HuntWorkers | undefined;
  let result: HuntResult['sigma'];
  if (rules && rules.length > 0) {
    if (threads > 1) {
      // The main thread is one of the lanes: it compiles its own engine while the workers compile theirs.
      workers = new HuntWorkers(threads - 1, rules);
      const mainEngine = opts.engine ?? sigmaEngineOf(rules);
      const ready = await workers.ready();
      workers.matchOnMainThread(mainEngine);
      result = { stats: ready.stats, issues: ready.issues };
    } else {
      sigma = opts.engine ?? sigmaEngineOf(rules);
      result = { stats: sigma.stats(), issues: [...sigma.issues] };
    }
  }
  if (result && result.stats.runnable === 0) {
    await workers?.close();
    throw new UsageError('HUNT_NO_RULES', 'no runnable rule was loaded (check --rules)');
  }
  stats.threads = workers ? threads : 1;
  // With workers, correlations are kept here from the matches they report.
  const correlations = workers && rules ? correlationsOf(rules) : undefined;

  const total = inputs.reduce((s, f) => s + f.size, 0);
  let bytesDone = 0;
  let filesDone = 0;
  const progress = (): void =>
    opts.onProgress?.({ filesDone, files: inputs.length, bytesDone, bytes: total, events: stats.events });
  const counters: InputCounters = { events: 0, outOfRange: 0 };
  const syncCounters = (): void => {
    stats.events = counters.events;
    stats.outOfRange = counters.outOfRange;
  };
  const addSourceStats = (s: Record<string, number>): void => {
    for (const [k, v] of Object.entries(s)) stats.sources[k] = (stats.sources[k] ?? 0) + v;
  };
  const onEvent = (e: EcsEvent): void => {
    const at = e['@timestamp'];
    if (at !== undefined) seenAt(Date.parse(at));
    if (sigma) emitAll(sigma.observe(e));
    emitAll(wallets.observe(e));
    emitAll(poolMatch.observe(e));
  };

  // Event-log files go to the workers at once (they queue); their results are taken in input order.
  const dispatched = new Map<Kinded, ReturnType<HuntWorkers['run']>>();
  if (workers)
    for (const f of logInputs) dispatched.set(f, workers.run(f.path, f.size, f.source.name, window));

  let turn = performance.now();
  try {
    for (const file of inputs) {
      // Inputs may read synchronously: let signals (Ctrl-C → abort) and timers in now and then.
      if (performance.now() - turn > 50) {
        await nextTurn();
        turn = performance.now();
      }
      if (opts.signal?.aborted) break;
      stats.files++;
      stats.filesByKind[file.source.name] = (stats.filesByKind[file.source.name] ?? 0) + 1;
      const job = dispatched.get(file);
      try {
        if (job) {
          const r = await job;
          counters.events += r.events;
          counters.outOfRange += r.outOfRange;
          seenAt(r.firstMs);
          seenAt(r.lastMs);
          for (const i of r.issues) addIssue(i);
          stats.issues += r.issuesDropped;
          emitAll(r.findings);
          for (const [rule, e] of r.correlated) correlations?.record(rule, e);
          // Pool checks keep passive DNS across records: the records that feed them arrive in input order.
          for (const e of r.poolEvents) emitAll(poolMatch.observe(e));
        } else {
          await readInput(
            file.path,
            file.size,
            file.source,
            window,
            {
              event: onEvent,
              net: (e) => {
                seenAt(e.tsMs);
                if (e.src && hosts.size < MAX_COUNTED_HOSTS) hosts.add(e.src.ip);
                emitAll(networkDetector().observe(e));
              },
              issue: addIssue,
              stats: addSourceStats,
              tick: () => {
                syncCounters();
                progress();
              },
            },
            counters,
            opts.signal,
          );
        }
      } catch (e) {
        addIssue({ code: 'HUNT_READ_FAILED', message: describeError(e), location: file.path });
      }
      bytesDone += file.size;
      stats.bytes += file.size;
      filesDone++;
      syncCounters();
      progress();
    }
  } finally {
    await workers?.close();
  }
  if (sigma) emitAll(sigma.finalize());
  if (correlations) emitAll(correlations.finalize());
  emitAll(poolMatch.finalize());
  if (network) {
    emitAll(network.finalize());
    for (const [k, v] of Object.entries(network.stats())) stats.detectors[`network.${k}`] = v;
  }
  if (hostNames.evicted > 0) stats.detectors['host_names.evicted'] = hostNames.evicted;
  syncCounters();
  stats.hosts = hosts.size;
  if (firstMs <= lastMs && Math.abs(firstMs) <= 8.64e15 && Math.abs(lastMs) <= 8.64e15) {
    stats.first = new Date(firstMs).toISOString();
    stats.last = new Date(lastMs).toISOString();
  }
  stats.ms = Math.round(performance.now() - t0);
  const out: HuntResult = { findings: dedupeAndSort(findings), issues, stats };
  if (result) out.sigma = result;
  return out;
}

function dedupeAndSort(findings: readonly Finding[]): Finding[] {
  return dedupeFindings(findings).sort(compareFindings);
}

/**
 * The rules a hunt compiles: all but those whose `covered_by` names a rule
 * of a built-in detector this hunt runs (its findings already report what
 * they match). `engine` callers compile from this list too.
 */
export function withoutCovered(
  rules: readonly SigmaRule[],
  running: readonly { id: string }[],
): readonly SigmaRule[] {
  const ids = new Set(running.map((r) => r.id));
  const kept = rules.filter((r) => r.coveredBy === undefined || !ids.has(r.coveredBy));
  return kept.length === rules.length ? rules : kept;
}
