import type { ParseIssue } from './errors.ts';
import type { EcsEvent } from './event.ts';
import type { Finding } from './finding.ts';

/**
 * The small interfaces of the pipeline (DESIGN.md §2). A new source,
 * detector or responder is one folder that implements one of these plus one
 * registry entry.
 */

/** A source yields events, or issues for records it could not parse. */
export interface Source {
  readonly name: string;
  read(): AsyncIterable<EcsEvent | ParseIssue>;
}

export function isParseIssue(x: EcsEvent | ParseIssue): x is ParseIssue {
  return (
    typeof (x as ParseIssue).code === 'string' &&
    typeof (x as ParseIssue).location === 'string' &&
    !('@timestamp' in x)
  );
}

/** A detector is pure: it maps input to findings and never reads files, /proc or the clock itself. */
export interface Detector<In> {
  readonly id: string;
  readonly description: string;
  detect(input: In): Finding[];
  /** For windowed or aggregate logic: findings that need the whole stream. */
  finalize?(): Finding[];
}

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
