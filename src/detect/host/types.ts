import type { HostSnapshot, ProcessInfo } from '../../core/host-snapshot.ts';
import type { BehaviourModel } from '../../ml/behaviour/model.ts';
import type { SharedLearnedPool } from '../pool-match/learned-pools.ts';
import type { BehaviourHistory } from './behaviour/history.ts';

/**
 * A weak or strong piece of evidence about one subject. Host analytics emit
 * signals; the correlator turns the signals of one process into one finding
 * whose severity rises with the evidence.
 */
export interface Signal {
  /** Stable id, e.g. `masquerade.kernel_thread_name`. */
  id: string;
  category: 'miner' | 'masquerade' | 'cpu' | 'network' | 'persistence' | 'allowlist' | 'behaviour';
  /** Points toward "this is a miner": ~1 weak, ~3 suspicious alone, ≥6 conclusive alone. */
  weight: number;
  techniques: string[];
  /** One sentence for a person. */
  text: string;
  evidence?: Record<string, unknown>;
}

export type AnalyticOutput =
  | { kind: 'process'; pid: number; signal: Signal }
  /** A line of a persistence or config file; `refs` are executable paths it names. */
  | { kind: 'file'; path: string; line: number; content: string; refs: string[]; signal: Signal };

/** A listed pool as the pool matcher answers: which entry, which list, and where this host met it. */
export interface PoolMatch {
  indicator: string;
  source: string;
  /** Every place this host was seen meeting the pool so far (evidence `seen_in`). */
  seenIn?: string[];
}

/** Where a pool was seen on a host: `socket`, `cmdline`; the host's name; the process. */
export interface PoolSeen {
  where: string;
  host: string;
  process?: string | undefined;
}

/** Something that can tell whether a network endpoint or pool name is a listed mining pool. */
export interface PoolIntel {
  matchIp(ip: string, port?: number, seen?: PoolSeen): PoolMatch | undefined;
  /** A pool as a miner names it: `host:port`, a URL (`stratum+tcp://…`) or a bare host. */
  matchPool?(pool: string, seen?: PoolSeen): PoolMatch | undefined;
  /** Pools the fleet learned (the server's list), replacing the ones seeded before. */
  seedLearned?(pools: readonly SharedLearnedPool[]): void;
}

export interface AllowEntry {
  name?: string;
  path?: string;
  hash?: string;
  line: number;
}

export interface HostAnalyticContext {
  allowlist?: AllowEntry[];
  poolIntel?: PoolIntel;
  /** The behaviour model to score with (default: the one shipped in data/behaviour/). */
  behaviourModel?: BehaviourModel;
  /** The agent's per-binary baseline over days (behaviour/history.ts); absent in one-shot scans. */
  behaviourHistory?: BehaviourHistory;
}

/** A host analytic is pure: it reads the snapshot, never /proc, files or the clock. */
export interface HostAnalytic {
  readonly id: string;
  readonly description: string;
  analyze(snapshot: HostSnapshot, ctx: HostAnalyticContext): AnalyticOutput[];
}

export function userProcesses(s: HostSnapshot): ProcessInfo[] {
  return s.processes.filter((p) => !p.kernelThread);
}

/** A signal about one running process, as analytics emit it. */
export function processSignal(pid: number, signal: Signal): AnalyticOutput {
  return { kind: 'process', pid, signal };
}
