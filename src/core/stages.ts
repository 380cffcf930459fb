import type { ParseIssue } from './errors.ts';
import type { EcsEvent } from './event.ts';
import type { Finding } from './finding.ts';
import type { NetEvent } from './net-event.ts';
import type { Severity } from './severity.ts';

/**
 * The small interfaces of the pipeline (DESIGN.md §2). A new source,
 * detector, output or responder is one folder that implements one of these
 * plus one registry entry, and passes the shared conformance test of its kind.
 */

/**
 * A rule a detector can emit. Every detector declares its rules; the rule
 * catalog (docs, console, `deminer rules`) is built from the declarations, and
 * a detector that emits an id it did not declare fails its conformance test.
 */
export interface RuleDeclaration {
  id: string;
  name: string;
  ruleset: 'builtin' | 'sigma';
  /** The lowest and highest severity its findings can carry. */
  severity: { min: Severity; max: Severity };
  /** ATT&CK technique ids its findings carry (e.g. T1496, T1036.005). */
  techniques: string[];
  /** What an analyst should look at first when it fires. */
  triage: string;
}

/** What every detector says about itself. */
export interface DetectorInfo {
  readonly id: string;
  readonly description: string;
  readonly rules: readonly RuleDeclaration[];
}

/** A detector over one whole picture (a host snapshot). Pure: no /proc, files or clock. */
export interface SnapshotDetector<Snapshot, Context = undefined> extends DetectorInfo {
  detect(snapshot: Snapshot, context: Context): Finding[];
}

/**
 * A detector over a stream of events. It may keep state between events and
 * across inputs (per-host windows, correlations): bounded, on event time,
 * never the wall clock.
 */
export interface StreamDetector<E> extends DetectorInfo {
  /** Findings this event completes (none while state builds up). */
  observe(event: E): Finding[];
  /** Findings ready now, for long-running pipelines that report as they go. */
  drain?(): Finding[];
  /** End of input: findings that needed the whole stream. */
  finalize(): Finding[];
  /** Counters worth reporting (e.g. entries evicted from bounded tables). */
  stats?(): Record<string, number>;
}

/** What a source yields: events (ECS-shaped records or network observations) or problems met on the way. */
export type SourceItem =
  | { kind: 'event'; event: EcsEvent }
  | { kind: 'net'; event: NetEvent }
  | { kind: 'issue'; issue: ParseIssue }
  /** Counters of the source for one input (packets, malformed frames, …), once at its end. */
  | { kind: 'stats'; stats: Record<string, number> };

export interface SourceContext {
  signal?: AbortSignal;
}

/**
 * One input format (`sources/<format>/`):
 * - `sniff` decides by content: the first HEAD_BYTES of the file and the path
 *   (the extension only as a tie-breaker); cheap, never throws.
 * - `read` streams the file in batches of items, in input order (a batch per
 *   chunk read keeps one promise per item out of the hot loops); it throws a
 *   DeminerError only when the file cannot be opened at all; damaged content
 *   is yielded as `issue` items.
 * - `load` (optional) reads a file at once and hands back its items as a
 *   synchronous iterable (one promise per item spared); undefined when the
 *   file is too large to hold, then `read` is used.
 */
export interface Source {
  readonly name: string;
  sniff(head: Uint8Array, path: string): boolean;
  read(path: string, context: SourceContext): AsyncIterable<readonly SourceItem[]>;
  load?(path: string, size: number, context: SourceContext): Promise<Iterable<SourceItem> | undefined>;
}

/** How many bytes of a file a source's `sniff` gets. */
export const HEAD_BYTES = 4096;

/** One step a responder would take; plans are data, so they can be reviewed before they run. */
export interface PlannedAction {
  kind: string;
  target: string;
  description: string;
}

export interface Responder<Target> {
  readonly name: string;
  plan(target: Target): PlannedAction[];
  apply(
    plan: readonly PlannedAction[],
    options: { dryRun: boolean },
  ): Promise<{ action: PlannedAction; ok: boolean; detail?: string }[]>;
}
