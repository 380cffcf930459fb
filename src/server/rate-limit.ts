/**
 * Failed authentications per client address (bad tokens, bad enrolment
 * secrets): past `max` failures within `windowMs`, the address is refused
 * (429 with Retry-After) until its window ends, valid token or not, so that
 * guessing cannot go on and the answer tells nothing. Memory is bounded:
 * past `maxAddresses` the oldest window is forgotten first.
 */
export interface FailureLimitOptions {
  max: number;
  windowMs: number;
  maxAddresses?: number;
}

interface Window {
  start: number;
  failures: number;
  /** Whether a refusal in this window was already reported (audited once, not once per request). */
  reported: boolean;
}

export class FailureLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxAddresses: number;

  constructor(opts: FailureLimitOptions) {
    this.#max = opts.max;
    this.#windowMs = opts.windowMs;
    this.#maxAddresses = opts.maxAddresses ?? 50_000;
  }

  /** Milliseconds until the address may try again; 0 when it may now. */
  blockedFor(address: string, now = Date.now()): number {
    const w = this.#current(address, now);
    if (!w || w.failures < this.#max) return 0;
    return Math.max(1, w.start + this.#windowMs - now);
  }

  /** Counts a failure; true when this one used up the address's allowance. */
  fail(address: string, now = Date.now()): boolean {
    let w = this.#current(address, now);
    if (!w) {
      w = { start: now, failures: 0, reported: false };
      this.#windows.set(address, w);
      this.#evict(now);
    }
    w.failures++;
    return w.failures === this.#max;
  }

  /** True for the first refusal of a blocked address's window, false after. */
  firstRefusal(address: string, now = Date.now()): boolean {
    const w = this.#current(address, now);
    if (!w || w.reported) return false;
    w.reported = true;
    return true;
  }

  #current(address: string, now: number): Window | undefined {
    const w = this.#windows.get(address);
    if (w && now - w.start >= this.#windowMs) {
      this.#windows.delete(address);
      return undefined;
    }
    return w;
  }

  #evict(now: number): void {
    if (this.#windows.size <= this.#maxAddresses) return;
    // Insertion order is window start order: expired windows and, past the cap, the oldest go first.
    for (const [a, w] of this.#windows) {
      if (this.#windows.size <= this.#maxAddresses && now - w.start < this.#windowMs) break;
      this.#windows.delete(a);
    }
  }
}
