import { ActionError } from './errors.ts';
import { makeRunner } from './runner.ts';
import { type ProtectedEntry, refuseProtected } from './safety.ts';
import {
  type Exchange,
  type IsolationBackend,
  type IsolationState,
  type IsolationTarget,
  type RuleCheck,
  type Step,
  stateOf,
} from './types.ts';

/**
 * Runs one isolation or release through a backend: read first (idempotence:
 * what is already in place is not sent again), change, read back until the
 * device reports it (or `settleMs` passes), retry with exponential backoff a
 * bounded number of times, and never call a change done that was not read
 * back. The CLI calls this; the server's isolate/release API, automatic
 * policy and the agent are meant to call it too, with their own audit sink.
 */
export interface RunOptions {
  /** Extra attempts after the first (0..10). */
  retries: number;
  /** Wait before the 2nd attempt; doubles after each. */
  backoffMs: number;
  /** Per request or command. */
  timeoutMs: number;
  /** How long to poll the read-back after a change; the backend's own default otherwise. */
  settleMs?: number;
  /** Isolation expiry: recorded in the result; the server enforces it (isolate/service.ts), the CLI does not. */
  ttlMs?: number;
  /** Protected ranges (isolate only): a protected target is refused before anything is sent. */
  protect?: readonly ProtectedEntry[];
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Told before each retry (for a note on stderr). */
  onRetry?: (attempt: number, error: ActionError, waitMs: number) => void;
  /** Told of each request or command and its answer as it completes (the server's action log). */
  onExchange?: (e: Exchange) => void;
}

export type Outcome =
  | 'isolated'
  | 'already_isolated'
  | 'released'
  | 'nothing_to_release'
  | 'failed'
  | 'planned';

export interface IsolationResult {
  action: 'isolate' | 'release';
  backend: string;
  target: IsolationTarget;
  /** Exit 0 only when true: the rules were read back in place (isolate) or gone (release). */
  ok: boolean;
  outcome: Outcome;
  dry_run: boolean;
  /** What a dry run would send, in order. */
  plan?: Step[];
  attempts: number;
  /** The last read-back. */
  verification?: {
    state: IsolationState;
    expected: readonly string[];
    present: readonly string[];
    pending?: readonly string[];
    detail: string;
    ids?: readonly string[];
  };
  exchanges: Exchange[];
  ttl?: { ms: number; expires_at: string; enforced: false };
  error?: { code: string; message: string; retryable: boolean };
  timings: {
    total_ms: number;
    /** From the decision (the call) to the read-back that proved it: the isolation's effect. */
    to_verified_ms?: number;
  };
  started_at: string;
  finished_at: string;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

function verification(check: RuleCheck): NonNullable<IsolationResult['verification']> {
  return {
    state: stateOf(check),
    expected: check.expected,
    present: check.present,
    ...(check.pending && check.pending.length > 0 ? { pending: check.pending } : {}),
    detail: check.detail,
    ...(check.ids && check.ids.length > 0 ? { ids: check.ids } : {}),
  };
}

const gone = (c: RuleCheck) => c.present.length === 0 && (c.pending?.length ?? 0) === 0;
const inPlace = (c: RuleCheck) => stateOf(c) === 'isolated';

export async function runIsolation(
  action: 'isolate' | 'release',
  backend: IsolationBackend,
  target: IsolationTarget,
  opts: RunOptions,
): Promise<IsolationResult> {
  const t0 = performance.now();
  const startedAt = new Date();
  // Safety first, even for a dry run: a protected target is a usage error.
  if (action === 'isolate') refuseProtected(target, opts.protect ?? []);
  const ttl =
    action === 'isolate' && opts.ttlMs !== undefined
      ? {
          ms: opts.ttlMs,
          expires_at: new Date(startedAt.getTime() + opts.ttlMs).toISOString(),
          enforced: false as const,
        }
      : undefined;
  const base = {
    action,
    backend: backend.name,
    target,
    dry_run: opts.dryRun === true,
    started_at: startedAt.toISOString(),
    ...(ttl ? { ttl } : {}),
  };
  const finish = (
    r: Omit<IsolationResult, keyof typeof base | 'finished_at' | 'timings'>,
    verifiedAt?: number,
  ) => ({
    ...base,
    ...r,
    timings: {
      total_ms: Math.round(performance.now() - t0),
      ...(verifiedAt !== undefined ? { to_verified_ms: Math.round(verifiedAt - t0) } : {}),
    },
    finished_at: new Date().toISOString(),
  });

  // Planning is pure and checks what the backend needs (an allow list, template values): a
  // usage error surfaces here, before anything is sent.
  const plan = backend.plan(action, target);
  if (opts.dryRun)
    return finish({
      ok: true,
      outcome: 'planned',
      plan,
      attempts: 0,
      exchanges: [],
    });

  const io = makeRunner({
    timeoutMs: opts.timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onExchange ? { onExchange: opts.onExchange } : {}),
  });
  const settleMs = opts.settleMs ?? backend.settleMs;
  const done = action === 'isolate' ? inPlace : gone;
  let last: RuleCheck | undefined;
  let lastError: ActionError | undefined;
  let attempts = 0;

  /** Reads back until `done` or the settle time is up; the first read is immediate. */
  async function settle(): Promise<RuleCheck> {
    const deadline = performance.now() + settleMs;
    let wait = 50;
    for (;;) {
      const check = await backend.verify(target, io);
      last = check;
      if (done(check) || performance.now() + wait > deadline || opts.signal?.aborted) return check;
      await sleep(wait, opts.signal);
      wait = Math.min(wait * 2, 1000);
    }
  }

  for (let attempt = 1; attempt <= opts.retries + 1; attempt++) {
    attempts = attempt;
    try {
      const before = await backend.verify(target, io);
      last = before;
      if (done(before)) {
        const now = performance.now();
        const already = attempt === 1;
        return finish(
          {
            ok: true,
            outcome:
              action === 'isolate'
                ? already
                  ? 'already_isolated'
                  : 'isolated'
                : already
                  ? 'nothing_to_release'
                  : 'released',
            attempts,
            verification: verification(before),
            exchanges: io.exchanges,
          },
          now,
        );
      }
      if (action === 'isolate') await backend.apply(target, io);
      else await backend.release(target, io, before);
      const after = await settle();
      if (done(after))
        return finish(
          {
            ok: true,
            outcome: action === 'isolate' ? 'isolated' : 'released',
            attempts,
            verification: verification(after),
            exchanges: io.exchanges,
          },
          performance.now(),
        );
      const missing =
        action === 'isolate'
          ? after.expected.filter((r) => !after.present.includes(r))
          : [...after.present, ...(after.pending ?? [])];
      lastError = new ActionError(
        action === 'isolate' ? 'ISOLATE_NOT_VERIFIED' : 'RELEASE_NOT_VERIFIED',
        action === 'isolate'
          ? `the ${backend.name} backend accepted the change but ${missing.length} of ${after.expected.length} rules are not in place after ${settleMs} ms (${missing.join('; ')}): ${after.detail}`
          : `the ${backend.name} backend accepted the removal but ${missing.length} rules are still there after ${settleMs} ms (${missing.join('; ')}): ${after.detail}`,
        { retryable: true },
      );
    } catch (e) {
      if (!(e instanceof ActionError)) throw e;
      lastError = e;
      if (!e.retryable) break;
    }
    if (attempt <= opts.retries && !opts.signal?.aborted) {
      const wait = opts.backoffMs * 2 ** (attempt - 1);
      opts.onRetry?.(attempt, lastError, wait);
      await sleep(wait, opts.signal);
    }
  }
  const err = lastError ?? new ActionError('ISOLATE_FAILED', 'failed', { retryable: false });
  return finish({
    ok: false,
    outcome: 'failed',
    attempts,
    ...(last ? { verification: verification(last) } : {}),
    exchanges: io.exchanges,
    error: { code: err.code, message: err.message, retryable: err.retryable },
  });
}
