import type { ParseIssue } from '../core/errors.ts';
import type { EcsEvent } from '../core/event.ts';
import type { Finding } from '../core/finding.ts';
import { feedsPoolChecks } from '../detect/pool-match/intel-match-detector.ts';
import type { EngineStats, SigmaEngine } from '../detect/sigma/engine.ts';
import type { SigmaRule } from '../detect/sigma/rule.ts';
import { WalletDetector } from '../detect/wallet/wallet-detector.ts';
import { SOURCES } from '../sources/registry.ts';
import type { InputCounters } from './read-input.ts';
import { readInput } from './read-input.ts';
import type { TimeWindow } from './time-window.ts';

/**
 * One event-log file matched against the Sigma rules, in a worker process or
 * the main thread: it needs no state shared between files. What the stateful
 * detectors need (matches of rules that feed correlations, records the pool
 * checks read) goes back to the main thread with the findings.
 */
export interface WorkerTask {
  id: number;
  path: string;
  size: number;
  source: string;
  window: TimeWindow;
}

export interface WorkerResult {
  id: number;
  events: number;
  outOfRange: number;
  findings: Finding[];
  /** Matches of rules that feed correlations: [rule index, record]. */
  correlated: [number, EcsEvent][];
  /** Records with DNS queries or connections, for the pool checks. */
  poolEvents: EcsEvent[];
  issues: ParseIssue[];
  /** Issues past the per-file cap, counted only. */
  issuesDropped: number;
  /** Earliest and latest record time used (ms since the epoch; ±Infinity for none). */
  firstMs: number;
  lastMs: number;
}

export type WorkerMessage =
  | { type: 'ready'; stats: EngineStats; issues: ParseIssue[] }
  | { type: 'done'; result: WorkerResult }
  | { type: 'failed'; id: number; error: string };

export interface WorkerInit {
  deminer: 'hunt-worker';
  rules: SigmaRule[];
}

const MAX_ISSUES_PER_FILE = 1000;
/** Stateless (see its doc), so one per process serves every file. */
const wallets = new WalletDetector();

export async function matchLogFile(engine: SigmaEngine, task: WorkerTask): Promise<WorkerResult> {
  const source = SOURCES.find((s) => s.name === task.source);
  const result: WorkerResult = {
    id: task.id,
    events: 0,
    outOfRange: 0,
    findings: [],
    correlated: [],
    poolEvents: [],
    issues: [],
    issuesDropped: 0,
    firstMs: Number.POSITIVE_INFINITY,
    lastMs: Number.NEGATIVE_INFINITY,
  };
  if (!source) throw new Error(`unknown source ${task.source}`);
  const counters: InputCounters = { events: 0, outOfRange: 0 };
  await readInput(
    task.path,
    task.size,
    source,
    task.window,
    {
      event: (e) => {
        const at = e['@timestamp'];
        if (at !== undefined) {
          const ms = Date.parse(at);
          if (ms < result.firstMs) result.firstMs = ms;
          if (ms > result.lastMs) result.lastMs = ms;
        }
        const m = engine.observeSplit(e);
        for (const f of m.findings) result.findings.push(f);
        for (const f of wallets.observe(e)) result.findings.push(f);
        for (const r of m.correlated) result.correlated.push([r, e]);
        if (feedsPoolChecks(e)) result.poolEvents.push(e);
      },
      // Network inputs stay on the main thread; nothing to do should one arrive here.
      net: () => {},
      issue: (i) => {
        if (result.issues.length < MAX_ISSUES_PER_FILE) result.issues.push(i);
        else result.issuesDropped++;
      },
    },
    counters,
  );
  result.events = counters.events;
  result.outOfRange = counters.outOfRange;
  return result;
}
