import { DeminerError } from '../src/core/errors.ts';

/**
 * What a fuzz target returns: short strings naming the outcome (issue codes,
 * event kinds). The mutation engine keeps an input that produces a feature it
 * has not seen, a cheap stand-in for coverage feedback.
 */
export type Features = readonly string[];
export type FuzzTarget = (data: Uint8Array) => Features | Promise<Features>;

/**
 * A parser that refuses its input with our own error (DeminerError, and so
 * UsageError) behaves as designed: the CLI reports it with a location and exits 2.
 * Anything else (TypeError, RangeError, stack overflow) is a bug.
 */
export function isExpected(e: unknown): boolean {
  return e instanceof DeminerError;
}

/** Runs `fn`, turning an expected refusal into a feature and rethrowing anything else. */
export function refusalAware(fn: () => Features): Features {
  try {
    return fn();
  } catch (e) {
    if (isExpected(e)) return [`refused:${(e as DeminerError).code}`];
    throw e;
  }
}

/** Decoding as the file readers do: invalid UTF-8 becomes U+FFFD, never an exception. */
export function text(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}

/** Splits into lines the way the line-oriented sources do (LF, optional CR). */
export function lines(data: Uint8Array): string[] {
  return text(data)
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}
