import type { Command } from 'commander';
import { DeminerError, UsageError } from '../core/errors.ts';
import { escapeControls } from '../outputs/safe-text.ts';

/** Exit codes of DESIGN.md §4 (3 is an internal error: a bug to report). */
export const EXIT = { OK: 0, FINDINGS: 1, USAGE: 2, INTERNAL: 3 } as const;

/** Every command file exports one of these; `src/cli/main.ts` lists them. */
export type RegisterCommand = (program: Command, run: RunAction) => void;

/**
 * Wraps a command action: the action returns its exit code; errors become a
 * message on stderr and exit code 2 (input/usage) or 3 (internal).
 */
export type RunAction = <A extends unknown[]>(
  fn: (...args: A) => Promise<number> | number,
) => (...args: A) => Promise<void>;

export function makeRunner(setExit: (code: number) => void): RunAction {
  return (fn) =>
    async (...args) => {
      try {
        setExit(await fn(...args));
      } catch (e) {
        setExit(reportError(e));
      }
    };
}

export function reportError(e: unknown): number {
  if (e instanceof DeminerError) {
    // Messages name files and values the attacker chose: never raw to a terminal.
    process.stderr.write(`deminer: ${escapeControls(e.code)}: ${escapeControls(e.message)}\n`);
    return e instanceof UsageError || isInputError(e) ? EXIT.USAGE : EXIT.INTERNAL;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  // A stack keeps its lines; anything else in them is escaped.
  const text = (err.stack ?? err.message).split('\n').map(escapeControls).join('\n');
  process.stderr.write(`deminer: internal error: ${text}\n`);
  return EXIT.INTERNAL;
}

/** Errors that carry a location come from input the user gave us. */
function isInputError(e: DeminerError): boolean {
  return e.location !== undefined;
}

export function parseChoice<T extends string>(value: string, choices: readonly T[], option: string): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError('BAD_OPTION', `${option} must be one of ${choices.join(', ')} (got "${value}")`);
}
