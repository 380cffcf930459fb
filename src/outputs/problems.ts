import type { ParseIssue } from '../core/errors.ts';
import { escapeControls } from './safe-text.ts';
import type { TextOut } from './sink.ts';

/** Problems printed one by one; the rest are counted, so a damaged input cannot flood the terminal. */
export const MAX_SHOWN_PROBLEMS = 20;

/** `deminer: warning: CODE: LOCATION: MESSAGE`, escaped: locations and messages quote the input. */
export function formatProblem(issue: ParseIssue): string {
  const where = issue.location ? `${escapeControls(issue.location)}: ` : '';
  return `deminer: warning: ${escapeControls(issue.code)}: ${where}${escapeControls(issue.message)}\n`;
}

export function formatMoreProblems(count: number): string {
  return `deminer: … and ${count} more problem(s)\n`;
}

/**
 * Prints the first problems and a count of the rest. `total` is how many the
 * run met, which may be more than it kept in `issues`.
 */
export function printProblems(
  issues: readonly ParseIssue[],
  out: TextOut,
  total: number = issues.length,
): void {
  const shown = Math.min(issues.length, MAX_SHOWN_PROBLEMS);
  let text = '';
  for (let i = 0; i < shown; i++) text += formatProblem(issues[i]!);
  const rest = Math.max(total, issues.length) - shown;
  if (rest > 0) text += formatMoreProblems(rest);
  if (text) out.write(text);
}

/**
 * The same output for problems met one at a time: each is printed when it
 * comes (a long run shows them at once), up to the cap; `end` prints the count
 * of the rest.
 */
export class ProblemPrinter {
  private seen = 0;

  constructor(private readonly out: TextOut) {}

  /** Problems met so far, printed or not. */
  get count(): number {
    return this.seen;
  }

  add(issue: ParseIssue): void {
    this.seen++;
    if (this.seen <= MAX_SHOWN_PROBLEMS) this.out.write(formatProblem(issue));
  }

  end(): void {
    if (this.seen > MAX_SHOWN_PROBLEMS) this.out.write(formatMoreProblems(this.seen - MAX_SHOWN_PROBLEMS));
  }
}
