/** PostgreSQL's codes for "the transaction lost a race, run it again": serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);

/** Attempts of one transaction, the first included. */
export const MAX_ATTEMPTS = 5;

export function isRetryable(e: unknown): boolean {
  return (
    typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' && RETRYABLE.has(e.code)
  );
}

/**
 * Runs a whole transaction again when the database aborted it for a lost
 * race (a deadlock with, or a serialization failure against, a concurrent
 * transaction): nothing of the aborted attempt stays, so running it again
 * is safe. A bounded number of times, with a short random pause between
 * attempts so that the contenders do not collide again in step.
 */
export async function retryTransaction<T>(run: () => Promise<T>, attempts = MAX_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (attempt >= attempts || !isRetryable(e)) throw e;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}
