/**
 * One error type for the whole project. Every error carries a stable,
 * greppable `code` (e.g. `EVTX_BAD_CHUNK`) and, when it comes from input, the
 * location it was found at (`file:offset` or `file:line`).
 */
export class DeminerError extends Error {
  readonly code: string;
  readonly location: string | undefined;

  constructor(code: string, message: string, options: { location?: string; cause?: unknown } = {}) {
    super(options.location ? `${options.location}: ${message}` : message, { cause: options.cause });
    this.name = 'DeminerError';
    this.code = code;
    this.location = options.location;
  }

  toJSON(): { code: string; message: string; location?: string } {
    return this.location
      ? { code: this.code, message: this.message, location: this.location }
      : { code: this.code, message: this.message };
  }
}

/** Bad user input (arguments, config, files): the CLI exits with 2. */
export class UsageError extends DeminerError {
  constructor(code: string, message: string, options: { location?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'UsageError';
  }
}

/**
 * A problem in one input record that was counted and skipped. Parsers return
 * these as values so that one bad record never stops a run.
 */
export interface ParseIssue {
  code: string;
  message: string;
  /** `file:offset`, `file:line`, or another place a person can open. */
  location: string;
}

export function describeError(e: unknown): string {
  if (e instanceof DeminerError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
