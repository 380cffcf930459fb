import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The agent's outbox: batches waiting for the server, one file each, in a
 * folder only the agent may read (0700; findings name processes, users and
 * command lines). It survives restarts and replays in the order batches were
 * spooled. Each batch carries the Idempotency-Key it was given when spooled,
 * so a replay after a lost answer is stored once by the server.
 *
 * Bounded in bytes: when full, the oldest metrics go first, then new metrics
 * are refused, and findings are dropped (oldest first, with a warning and a
 * counter) only when nothing else is left to give up.
 */

export type BatchKind = 'findings' | 'metrics';

export interface SpooledBatch {
  /** Spool order (monotonic across restarts). */
  seq: number;
  kind: BatchKind;
  idempotencyKey: string;
  createdAt: string;
  items: unknown[];
}

interface Entry {
  seq: number;
  kind: BatchKind;
  file: string;
  bytes: number;
}

export interface SpoolStats {
  batches: number;
  findingsBatches: number;
  metricsBatches: number;
  bytes: number;
  maxBytes: number;
  droppedMetricsBatches: number;
  refusedMetricsBatches: number;
  droppedFindingsBatches: number;
  droppedFindings: number;
  /** Files that could not be read back (moved to `corrupt/`). */
  corrupt: number;
  /** Batches the server refused for good (moved to `rejected/`). */
  rejected: number;
  sent: number;
}

export interface SpoolOptions {
  /** Default 64 MB. */
  maxBytes?: number;
  /** Warnings for a person (dropped findings, corrupt files). */
  warn?: (message: string) => void;
}

export interface AddResult {
  accepted: boolean;
  seq?: number;
  idempotencyKey?: string;
  /** Why it was refused. */
  reason?: string;
}

/** What to do with a batch whose send failed. */
export type Disposition = 'retry' | 'reject' | 'stop';

export interface DrainOptions {
  signal?: AbortSignal;
  /** Default: errors with `retryable: true` are retried, everything else stops the drain (and is thrown). */
  classify?: (error: unknown) => Disposition;
  backoff?: Backoff;
  /** Called before each wait after a failure. */
  onRetry?: (error: unknown, waitMs: number) => void;
}

export const DEFAULT_SPOOL_BYTES = 64 * 1024 * 1024;
const NAME_RE = /^(\d{16})-(findings|metrics)\.json$/;
/** Files kept in `corrupt/` and `rejected/` for a person to look at; older ones go. */
const KEEP_ASIDE = 50;

/** Exponential backoff with full jitter: a fleet that lost its server does not come back in step. */
export class Backoff {
  #attempt = 0;
  constructor(
    readonly baseMs = 1000,
    readonly capMs = 60_000,
    readonly random: () => number = Math.random,
  ) {}

  /** The next wait: a random time up to base·2^attempt (at most the cap), never below half of it. */
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}

function defaultClassify(e: unknown): Disposition {
  return typeof e === 'object' && e !== null && (e as { retryable?: unknown }).retryable === true
    ? 'retry'
    : 'stop';
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #warn: (m: string) => void;
  #entries: Entry[] = [];
  #bytes = 0;
  #nextSeq = 1;
  /** Adds and removals run one at a time, so spool order is file order and the byte count stays true. */
  #lock: Promise<unknown> = Promise.resolve();
  #waiters: (() => void)[] = [];
  readonly #stats = {
    droppedMetricsBatches: 0,
    refusedMetricsBatches: 0,
    droppedFindingsBatches: 0,
    droppedFindings: 0,
    corrupt: 0,
    rejected: 0,
    sent: 0,
  };

  private constructor(dir: string, opts: SpoolOptions) {
    this.dir = dir;
    this.maxBytes = opts.maxBytes ?? DEFAULT_SPOOL_BYTES;
    this.#warn = opts.warn ?? ((m) => process.stderr.write(`deminer agent: ${m}\n`));
  }

  /** Opens (or creates) the spool folder and indexes what a previous run left in it. */
  static async open(dir: string, opts: SpoolOptions = {}): Promise<Spool> {
    const s = new Spool(dir, opts);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir leaves an existing folder's mode alone: a spool made by hand must not stay world-readable.
    await chmod(dir, 0o700);
    await s.#index();
    return s;
  }

  async #index(): Promise<void> {
    const names = (await readdir(this.dir, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name);
    const entries: Entry[] = [];
    for (const name of names.sort()) {
      const m = NAME_RE.exec(name);
      if (!m) {
        // A temporary file is a write that never completed (the add never returned): keep it aside, not in the queue.
        await this.#moveAside(
          name,
          'corrupt',
          name.startsWith('.tmp-') ? 'an unfinished write' : 'an unknown file',
        );
        continue;
      }
      const file = join(this.dir, name);
      let bytes: number;
      try {
        bytes = (await stat(file)).size;
      } catch {
        continue;
      }
      entries.push({ seq: Number(m[1]), kind: m[2] as BatchKind, file, bytes });
    }
    entries.sort((a, b) => a.seq - b.seq);
    this.#entries = entries;
    this.#bytes = entries.reduce((a, e) => a + e.bytes, 0);
    this.#nextSeq = (entries.at(-1)?.seq ?? 0) + 1;
  }

  async #moveAside(name: string, folder: 'corrupt' | 'rejected', why: string): Promise<void> {
    const aside = join(this.dir, folder);
    await mkdir(aside, { recursive: true, mode: 0o700 });
    const target = join(aside, `${Date.now()}-${name.replace(/^\.+/, '')}`);
    try {
      await rename(join(this.dir, name), target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') await rm(join(this.dir, name), { force: true });
      return;
    }
    if (folder === 'corrupt') this.#stats.corrupt++;
    else this.#stats.rejected++;
    this.#warn(`spool: ${name} is ${why}; moved to ${target}`);
    const kept = (await readdir(aside)).sort();
    for (const old of kept.slice(0, Math.max(0, kept.length - KEEP_ASIDE)))
      await rm(join(aside, old), { force: true });
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** Spools a batch (atomically: temp file, fsync, rename, fsync of the folder). */
  add(kind: BatchKind, items: readonly unknown[], idempotencyKey: string = randomUUID()): Promise<AddResult> {
    return this.#locked(async () => {
      // Time-based, so numbers keep rising across restarts even when the spool was empty in between.
      const seq = Math.max(this.#nextSeq, Date.now() * 1000);
      const body = JSON.stringify({
        v: 1,
        kind,
        idempotency_key: idempotencyKey,
        created_at: new Date().toISOString(),
        items,
      });
      const bytes = Buffer.byteLength(body);
      if (bytes > this.maxBytes) {
        if (kind === 'metrics') this.#stats.refusedMetricsBatches++;
        else {
          this.#stats.droppedFindingsBatches++;
          this.#stats.droppedFindings += items.length;
          this.#warn(`spool: a findings batch of ${bytes} bytes is larger than the whole spool; dropped`);
        }
        return { accepted: false, reason: 'larger than the spool' };
      }
      while (this.#bytes + bytes > this.maxBytes) {
        const oldestMetrics = this.#entries.find((e) => e.kind === 'metrics');
        if (oldestMetrics) {
          await this.#remove(oldestMetrics);
          this.#stats.droppedMetricsBatches++;
          continue;
        }
        if (kind === 'metrics') {
          this.#stats.refusedMetricsBatches++;
          return { accepted: false, reason: 'spool full of findings' };
        }
        const oldest = this.#entries[0]!;
        const lost = await this.#countItems(oldest);
        await this.#remove(oldest);
        this.#stats.droppedFindingsBatches++;
        this.#stats.droppedFindings += lost;
        this.#warn(
          `spool: full (${this.maxBytes} bytes) and the server unreachable: dropped the oldest findings batch (${lost} findings; ${this.#stats.droppedFindings} dropped so far)`,
        );
      }
      const name = `${String(seq).padStart(16, '0')}-${kind}.json`;
      const file = join(this.dir, name);
      const tmp = join(this.dir, `.tmp-${name}-${randomBytes(4).toString('hex')}`);
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      await this.#syncDir();
      this.#nextSeq = seq + 1;
      this.#entries.push({ seq, kind, file, bytes });
      this.#bytes += bytes;
      for (const w of this.#waiters.splice(0)) w();
      return { accepted: true, seq, idempotencyKey };
    });
  }

  async #syncDir(): Promise<void> {
    // A rename is durable once its folder is synced (not every file system allows opening one: best effort).
    try {
      const d = await open(this.dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      // Nothing to do: the file itself was synced.
    }
  }

  async #countItems(e: Entry): Promise<number> {
    try {
      const parsed = JSON.parse(await readFile(e.file, 'utf8')) as { items?: unknown[] };
      return Array.isArray(parsed.items) ? parsed.items.length : 0;
    } catch {
      return 0;
    }
  }

  async #remove(e: Entry): Promise<void> {
    const i = this.#entries.indexOf(e);
    if (i < 0) return;
    this.#entries.splice(i, 1);
    this.#bytes -= e.bytes;
    await unlink(e.file).catch(() => undefined);
  }

  /**
   * The oldest batch, read back from its file. A file that cannot be read
   * back (truncated, not JSON, wrong shape) is reported, moved aside to
   * `corrupt/`, and the next one is returned.
   */
  async peek(): Promise<SpooledBatch | undefined> {
    for (;;) {
      const e = this.#entries[0];
      if (!e) return undefined;
      let batch: SpooledBatch | undefined;
      try {
        const raw = JSON.parse(await readFile(e.file, 'utf8')) as Record<string, unknown>;
        if (
          raw['kind'] === e.kind &&
          typeof raw['idempotency_key'] === 'string' &&
          raw['idempotency_key'] !== '' &&
          Array.isArray(raw['items'])
        )
          batch = {
            seq: e.seq,
            kind: e.kind,
            idempotencyKey: raw['idempotency_key'],
            createdAt: typeof raw['created_at'] === 'string' ? raw['created_at'] : '',
            items: raw['items'],
          };
      } catch {
        batch = undefined;
      }
      if (batch) return batch;
      await this.#locked(async () => {
        const i = this.#entries.indexOf(e);
        if (i < 0) return;
        this.#entries.splice(i, 1);
        this.#bytes -= e.bytes;
        await this.#moveAside(e.file.slice(this.dir.length + 1), 'corrupt', 'not a readable batch');
      });
    }
  }

  /** Removes a batch once the server has it. */
  ack(seq: number): Promise<void> {
    return this.#locked(async () => {
      const e = this.#entries.find((x) => x.seq === seq);
      if (!e) return;
      await this.#remove(e);
      this.#stats.sent++;
    });
  }

  /** Moves a batch the server refused for good aside (`rejected/`), so it does not block the queue. */
  reject(seq: number, why: string): Promise<void> {
    return this.#locked(async () => {
      const e = this.#entries.find((x) => x.seq === seq);
      if (!e) return;
      const i = this.#entries.indexOf(e);
      this.#entries.splice(i, 1);
      this.#bytes -= e.bytes;
      await this.#moveAside(e.file.slice(this.dir.length + 1), 'rejected', `refused by the server (${why})`);
    });
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Resolves when a batch is added (or at once when some are waiting). */
  whenNotEmpty(signal?: AbortSignal): Promise<void> {
    if (this.#entries.length > 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Sends every batch in spool order through `send`, removing each once it
   * went through. Retryable failures wait (exponential backoff, jitter, 60 s
   * cap) and try the same batch again; a batch refused for good is moved
   * aside; any other failure ends the drain by throwing it. Returns how many
   * batches were sent; stops quietly when `signal` aborts.
   */
  async drain(send: (batch: SpooledBatch) => Promise<void>, opts: DrainOptions = {}): Promise<number> {
    const classify = opts.classify ?? defaultClassify;
    const backoff = opts.backoff ?? new Backoff();
    let sent = 0;
    while (!opts.signal?.aborted) {
      const batch = await this.peek();
      if (!batch) break;
      try {
        await send(batch);
      } catch (e) {
        if (opts.signal?.aborted) break;
        const what = classify(e);
        if (what === 'reject') {
          await this.reject(batch.seq, e instanceof Error ? e.message : String(e));
          continue;
        }
        if (what === 'stop') throw e;
        const wait = backoff.next();
        opts.onRetry?.(e, wait);
        try {
          await sleep(wait, undefined, opts.signal ? { signal: opts.signal } : {});
        } catch {
          break;
        }
        continue;
      }
      backoff.reset();
      await this.ack(batch.seq);
      sent++;
    }
    return sent;
  }

  stats(): SpoolStats {
    return {
      batches: this.#entries.length,
      findingsBatches: this.#entries.filter((e) => e.kind === 'findings').length,
      metricsBatches: this.#entries.filter((e) => e.kind === 'metrics').length,
      bytes: this.#bytes,
      maxBytes: this.maxBytes,
      ...this.#stats,
    };
  }
}
