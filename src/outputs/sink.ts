import type { ParseIssue } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';

/** Where a sink writes: process.stdout, or anything with the same `write`. */
export interface TextOut {
  write(chunk: string): unknown;
}

/** Everything a run has to say at its end. */
export interface RunReport {
  /** The final findings: filtered, de-duplicated and ordered by the caller. */
  findings: readonly Finding[];
  /** The problems kept (a run may count more than it keeps; the count belongs in `stats`). */
  issues: readonly ParseIssue[];
  /** Command-specific counters and timings. */
  stats: object;
  /**
   * More top-level fields of the json envelope, before the three above
   * (`scan` puts its `host` here); they cannot replace `findings`, `issues` or `stats`.
   */
  extra?: Readonly<Record<string, unknown>>;
}

/**
 * One output format. `write` is called with each finding as it is found
 * (live formats print it at once, the others ignore it); `end` once, with the
 * final findings, which every format prints that it has not printed yet.
 */
export interface FindingSink {
  readonly format: string;
  /**
   * True when stdout carries a machine format: a command's human notes
   * (summaries, counts) then go to stderr, since nothing else may go to stdout.
   */
  readonly machine: boolean;
  write(finding: Finding): void;
  end(run: RunReport): void;
}

export interface SinkOptions {
  out: TextOut;
  /** Colours for a terminal (human formats only). */
  color?: boolean;
  /** Terminal width in columns (human formats only). */
  width?: number;
}

export type SinkFactory = (options: SinkOptions) => FindingSink;
