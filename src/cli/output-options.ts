import { closeSync, existsSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { type ParseIssue, UsageError } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import { SEVERITIES, type Severity } from '../core/severity.ts';
import { escapeControls, type TextOut } from '../outputs/index.ts';
import { EXIT } from './command.ts';

/**
 * The options every command that writes results shares, with one meaning
 * each (docs/cli.md lists them): `-f/--format`, `-o/--output`, `-q/--quiet`,
 * `--no-summary`, `--no-color`. Finding commands add the level filters and
 * `--strict`.
 */
export interface OutputCliOptions {
  format: string;
  output?: string;
  quiet?: boolean;
  summary?: boolean;
  color?: boolean;
}

export interface LevelCliOptions {
  minLevel?: string;
  level?: string;
  strict?: boolean;
}

export function addOutputOptions(cmd: Command, formats: readonly string[], defaultFormat: string): Command {
  return cmd
    .option('-f, --format <format>', `output format: ${formats.join('|')}`, defaultFormat)
    .option('-o, --output <file>', 'write the results to FILE (replaced when complete) instead of stdout')
    .option('-q, --quiet', 'no summary, notes or progress on stderr (problems and errors are still reported)')
    .option('--no-summary', 'leave out the summary after the results')
    .option('--no-color', 'no colours even on a terminal (so does the NO_COLOR environment variable)');
}

/** `-l/--min-level` (with `informational`, Sigma's lowest level), `--level` and `--strict`. */
export function addLevelOptions(cmd: Command, minLevelDefault?: string): Command {
  return cmd
    .option(
      '-l, --min-level <level>',
      `lowest severity that is reported and sets exit code 1: informational|${SEVERITIES.join('|')}${minLevelDefault ? '' : ' (default: low)'}`,
      minLevelDefault,
    )
    .option('--level <levels>', 'only these severities, comma-separated (e.g. high,critical)')
    .option('--strict', 'stop at the first input problem (exit 2) instead of reporting it and reading on');
}

/** Every level a user may name: Sigma's `informational` reports as `low` (DESIGN.md §4 has four severities). */
export const LEVEL_NAMES = ['informational', ...SEVERITIES] as const;

function levelOf(value: string, option: string): Severity {
  const v = value.trim().toLowerCase();
  if (v === 'informational' || v === 'info') return 'low';
  if ((SEVERITIES as readonly string[]).includes(v)) return v as Severity;
  throw new UsageError(
    'BAD_OPTION',
    `${option} must be one of ${LEVEL_NAMES.join(', ')} (got "${escapeControls(value.slice(0, 40))}")`,
  );
}

/** Which severities are reported: from `--min-level` and `--level` together (both must hold). */
export function parseLevels(
  opts: LevelCliOptions,
  fallbackMin = 'low',
): { min: Severity; only?: Set<Severity> } {
  const min = levelOf(opts.minLevel ?? fallbackMin, '--min-level');
  if (opts.level === undefined) return { min };
  const only = new Set<Severity>();
  for (const part of opts.level.split(',')) if (part.trim()) only.add(levelOf(part, '--level'));
  if (only.size === 0) throw new UsageError('BAD_OPTION', '--level needs at least one level');
  return { min, only };
}

/** Findings `--level` keeps (after `--min-level`, which the pipelines apply as they go). */
export function keepLevels(findings: readonly Finding[], only: Set<Severity> | undefined): Finding[] {
  return only ? findings.filter((f) => only.has(f.severity)) : [...findings];
}

/**
 * The exit code of a run (docs/cli.md): 1 when something was found at the
 * reporting level, else 2 when an input could not be read in full (the
 * readable rest was used and the problems printed), else 0.
 */
export function exitCodeFor(found: number, problems: number): number {
  if (found > 0) return EXIT.FINDINGS;
  return problems > 0 ? EXIT.USAGE : EXIT.OK;
}

/** Colours on only for a terminal, and never with `--no-color` or a non-empty NO_COLOR (no-color.org). */
export function useColor(opts: { color?: boolean }, stream: { isTTY?: boolean }): boolean {
  if (opts.color === false) return false;
  const no = process.env['NO_COLOR'];
  if (no !== undefined && no !== '') return false;
  return stream.isTTY === true;
}

/** `COLUMNS` when stdout is no terminal (a pager, a file): how wide the reader wants tables. */
function columnsFromEnv(): number | undefined {
  const n = Number(process.env['COLUMNS']);
  return Number.isInteger(n) && n >= 20 && n <= 1000 ? n : undefined;
}

/** Where results go: stdout, or the `-o` file, written beside its final name and renamed into place at the end. */
export interface ResultOut extends TextOut {
  /** A terminal (colours and width apply). */
  readonly tty: boolean;
  readonly width: number;
  readonly color: boolean;
  /** Human notes (summaries) go here: stdout for a human format on stdout, else stderr. */
  notes(machine: boolean): TextOut;
  /** Moves the file into place (nothing for stdout). */
  close(): void;
  /** Removes the unfinished file (nothing for stdout). */
  abort(): void;
}

/**
 * Opens `-o FILE` (or stdout). The parent folder must exist (it is not
 * created) and FILE must not be a folder: both are usage errors. The text is
 * written to a temporary file in the same folder and renamed over FILE when the
 * command completes, so a reader never sees half a report; a failed command
 * leaves no temporary file behind.
 */
export function openResultOut(opts: OutputCliOptions): ResultOut {
  const quietNotes: TextOut = { write: () => true };
  if (opts.output === undefined || opts.output === '-') {
    const stdout = process.stdout;
    return {
      tty: stdout.isTTY === true,
      width: Math.max(80, stdout.columns ?? columnsFromEnv() ?? 120),
      color: useColor(opts, stdout),
      write: (s: string) => stdout.write(s),
      notes: (machine) => (opts.quiet ? quietNotes : machine ? process.stderr : stdout),
      close: () => {},
      abort: () => {},
    };
  }
  const file = opts.output;
  const parent = dirname(file);
  if (!existsSync(parent) || !statSync(parent).isDirectory())
    throw new UsageError(
      'OUTPUT_NO_FOLDER',
      'the folder of the output file does not exist (it is not created)',
      {
        location: file,
      },
    );
  if (existsSync(file) && statSync(file).isDirectory())
    throw new UsageError('OUTPUT_IS_FOLDER', 'the output file is a folder', { location: file });
  const tmp = join(parent, `.${basename(file)}.tmp-${process.pid}`);
  let fd: number | undefined = openSync(tmp, 'w', 0o644);
  const removeTmp = (): void => {
    if (fd !== undefined) {
      closeSync(fd);
      fd = undefined;
    }
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  };
  process.once('exit', removeTmp);
  return {
    tty: false,
    width: Math.max(80, columnsFromEnv() ?? 120),
    color: false,
    write: (s: string) => {
      if (fd !== undefined) writeSync(fd, s);
      return true;
    },
    notes: () => (opts.quiet ? quietNotes : process.stderr),
    close: () => {
      if (fd === undefined) return;
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, file);
      process.off('exit', removeTmp);
    },
    abort: () => {
      removeTmp();
      process.off('exit', removeTmp);
    },
  };
}

/** Runs `body` with the output open; the file is put in place when it returns and removed when it throws. */
export async function withResultOut<T>(
  opts: OutputCliOptions,
  body: (out: ResultOut) => Promise<T>,
): Promise<T> {
  const out = openResultOut(opts);
  try {
    const r = await body(out);
    out.close();
    return r;
  } catch (e) {
    out.abort();
    throw e;
  }
}

/**
 * `--strict`: the options that make a pipeline stop at its first input
 * problem, and the check that turns that stop into a usage error (exit 2)
 * once the problems are printed.
 */
export function strictStop(strict: boolean | undefined): {
  options: { signal?: AbortSignal; onIssue?: (i: ParseIssue) => void };
  check(): void;
} {
  if (!strict) return { options: {}, check: () => {} };
  const stop = new AbortController();
  let first: ParseIssue | undefined;
  return {
    options: {
      signal: stop.signal,
      onIssue: (i) => {
        first ??= i;
        stop.abort();
      },
    },
    check: () => {
      if (first)
        throw new UsageError('STRICT_STOPPED', 'stopped at the first input problem (--strict)', {
          location: first.location ?? first.code,
        });
    },
  };
}
