import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Finding } from '../core/finding.ts';
import { ApiClient, ApiClientError } from './client.ts';
import { Backoff } from './spool.ts';

/** Findings per request (the server's limit). */
export const FINDINGS_PER_BATCH = 1000;

export interface SendFindingsOptions {
  server: string;
  /** A sensor (or agent) token. */
  token: string;
  pinSha256?: string;
  timeoutMs?: number;
  /** Tries per batch on retryable failures (network, 5xx, 429). Default 5. */
  attempts?: number;
  backoff?: Backoff;
  signal?: AbortSignal;
  /** Told of each retry. */
  onRetry?: (error: ApiClientError, waitMs: number) => void;
}

export interface SendFindingsResult {
  batches: number;
  stored: number;
  duplicates: number;
  /** Batches the server had already stored under the same key (a run sent twice). */
  replayed: number;
}

/**
 * The idempotency keys of a run: derived from what it found (fingerprint and
 * severity of each finding, in fingerprint order) and the batch index, so
 * sending the same results again, after a lost answer or by re-running the
 * command on the same input, stores nothing twice.
 */
export function runBatches(findings: readonly Finding[]): { key: string; items: Finding[] }[] {
  const sorted = [...findings].sort(
    (a, b) =>
      (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0) ||
      a.id.localeCompare(b.id),
  );
  const h = createHash('sha256');
  for (const f of sorted) h.update(`${f.fingerprint}:${f.severity}\n`);
  const run = h.digest('hex').slice(0, 32);
  const count = Math.ceil(sorted.length / FINDINGS_PER_BATCH);
  const out: { key: string; items: Finding[] }[] = [];
  for (let i = 0; i < count; i++)
    out.push({
      key: `deminer-run-${run}-${i + 1}of${count}`,
      items: sorted.slice(i * FINDINGS_PER_BATCH, (i + 1) * FINDINGS_PER_BATCH),
    });
  return out;
}

/**
 * Sends a run's findings to the server (`deminer hunt|sniff --server URL
 * --token T`), in batches of at most 1000, each under its run-derived
 * Idempotency-Key. Retryable failures are retried with backoff; anything
 * else (bad token, refused input) throws an ApiClientError at once.
 */
export async function sendFindings(
  findings: readonly Finding[],
  o: SendFindingsOptions,
): Promise<SendFindingsResult> {
  const client = new ApiClient({
    server: o.server,
    token: o.token,
    ...(o.pinSha256 ? { pinSha256: o.pinSha256 } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    userAgent: 'deminer-sensor',
  });
  const result: SendFindingsResult = { batches: 0, stored: 0, duplicates: 0, replayed: 0 };
  const attempts = Math.max(1, o.attempts ?? 5);
  const backoff = o.backoff ?? new Backoff();
  try {
    for (const batch of runBatches(findings)) {
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await client.sendFindings(batch.items, batch.key);
          result.batches++;
          result.stored += r.stored;
          result.duplicates += r.duplicates;
          if (r.replayed) result.replayed++;
          backoff.reset();
          break;
        } catch (e) {
          if (!(e instanceof ApiClientError) || !e.retryable || attempt >= attempts || o.signal?.aborted)
            throw e;
          const wait = Math.max(backoff.next(), Math.min(e.retryAfterMs ?? 0, 60_000));
          o.onRetry?.(e, wait);
          await sleep(wait, undefined, o.signal ? { signal: o.signal } : {});
        }
      }
    }
  } finally {
    client.close();
  }
  return result;
}
