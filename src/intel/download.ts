import { DeminerError } from '../core/errors.ts';

export interface DownloadRequest {
  url: string;
  etag?: string;
  lastModified?: string;
  timeoutMs: number;
  maxBytes: number;
  retries: number;
  /** First retry waits this long, then twice as long each time (plus jitter). */
  retryBaseMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export type DownloadResult =
  | { notModified: true; attempts: number }
  | { notModified: false; body: Buffer; etag?: string; lastModified?: string; attempts: number };

/** Errors worth another try: the network, timeouts, truncation, 5xx and 429. */
class Retryable extends DeminerError {}

/**
 * Conditional GET with a hard size limit, a deadline per attempt, and
 * retries with exponential backoff for transient failures. A body that ends
 * before its Content-Length, or exceeds `maxBytes`, is never returned.
 */
export async function download(req: DownloadRequest): Promise<DownloadResult> {
  const sleep = req.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const base = req.retryBaseMs ?? 1000;
  let lastError: DeminerError | undefined;
  for (let attempt = 0; attempt <= req.retries; attempt++) {
    if (attempt > 0) await sleep(base * 2 ** (attempt - 1) * (1 + Math.random() * 0.25));
    try {
      const r = await once(req);
      return { ...r, attempts: attempt + 1 };
    } catch (e) {
      if (!(e instanceof Retryable)) throw e;
      lastError = e;
    }
  }
  throw new DeminerError(
    lastError?.code ?? 'INTEL_FETCH_FAILED',
    `${lastError?.message} (after ${req.retries + 1} attempts)`,
    {
      location: req.url,
      cause: lastError,
    },
  );
}

async function once(
  req: DownloadRequest,
): Promise<
  { notModified: true } | { notModified: false; body: Buffer; etag?: string; lastModified?: string }
> {
  const headers: Record<string, string> = { 'user-agent': 'deminer-intel', 'accept-encoding': 'gzip, br' };
  if (req.etag) headers['if-none-match'] = req.etag;
  if (req.lastModified) headers['if-modified-since'] = req.lastModified;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), req.timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(req.url, { headers, signal: controller.signal, redirect: 'follow' });
    } catch (e) {
      throw new Retryable(
        controller.signal.aborted ? 'INTEL_FETCH_TIMEOUT' : 'INTEL_FETCH_NETWORK',
        controller.signal.aborted
          ? `no answer within ${req.timeoutMs} ms`
          : `request failed: ${causeText(e)}`,
        { location: req.url, cause: e },
      );
    }
    if (res.status === 304) {
      await res.body?.cancel();
      return { notModified: true };
    }
    if (!res.ok) {
      await res.body?.cancel();
      const transient = res.status >= 500 || res.status === 429 || res.status === 408;
      const E = transient ? Retryable : DeminerError;
      throw new E('INTEL_FETCH_HTTP', `HTTP ${res.status} ${res.statusText}`, { location: req.url });
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    // A compressed body's Content-Length is the compressed size; the limit applies to what we keep.
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    if (!encoded && declared > req.maxBytes) {
      await res.body?.cancel();
      throw tooLarge(req, `declares ${declared} bytes`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = res.body?.getReader();
    if (reader) {
      for (;;) {
        let step: Awaited<ReturnType<typeof reader.read>>;
        try {
          step = await reader.read();
        } catch (e) {
          throw new Retryable(
            controller.signal.aborted ? 'INTEL_FETCH_TIMEOUT' : 'INTEL_FETCH_TRUNCATED',
            controller.signal.aborted
              ? `body not complete within ${req.timeoutMs} ms`
              : `body ended early after ${total} bytes: ${causeText(e)}`,
            { location: req.url, cause: e },
          );
        }
        if (step.done) break;
        total += step.value.byteLength;
        if (total > req.maxBytes) {
          await reader.cancel();
          throw tooLarge(req, `sent more than ${req.maxBytes} bytes`);
        }
        chunks.push(step.value);
      }
    }
    if (!encoded && Number.isFinite(declared) && total !== declared)
      throw new Retryable('INTEL_FETCH_TRUNCATED', `body has ${total} of ${declared} bytes`, {
        location: req.url,
      });
    const out: { notModified: false; body: Buffer; etag?: string; lastModified?: string } = {
      notModified: false,
      body: Buffer.concat(chunks),
    };
    const etag = res.headers.get('etag');
    if (etag) out.etag = etag;
    const lm = res.headers.get('last-modified');
    if (lm) out.lastModified = lm;
    return out;
  } finally {
    clearTimeout(timer);
  }
}

function tooLarge(req: DownloadRequest, what: string): DeminerError {
  return new DeminerError('INTEL_FEED_TOO_LARGE', `feed ${what}; the limit is ${req.maxBytes} (max_size)`, {
    location: req.url,
  });
}

function causeText(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  return [err.message, err.cause?.code ?? err.cause?.message].filter(Boolean).join(': ');
}
