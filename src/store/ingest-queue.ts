import type { StoreContext } from './context.ts';
import { type IngestOutcome, type IngestRequest, ingestPrepared, prepareIngest } from './findings.ts';
import type { IngestResult } from './types.ts';

/** The most findings one grouped transaction carries (five full batches). */
export const GROUP_FINDINGS = 5000;

interface Waiting {
  prepared: ReturnType<typeof prepareIngest>;
  resolve: (r: IngestResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for ingest. A batch that arrives while the store's
 * transactions are all busy waits, and the batches that waited meanwhile go
 * in together in one transaction as soon as one is free: one commit, one
 * upsert, one host update for the lot. Nothing waits for a timer, so a
 * lone batch goes in at once; under load the cost per batch falls as the
 * load rises. Each caller still gets its own answer, as if the batches had
 * been written one after the other (findings.ts, ingestPrepared), and a
 * group that fails as a whole (the database, not a batch, refused it) is
 * written again one batch per transaction, so that one caller's failure
 * never becomes another's.
 *
 * `concurrency`: transactions at once. SQLite has one writer, so 1; on
 * PostgreSQL a few run side by side, each with its own group.
 */
export class IngestQueue {
  readonly #ctx: StoreContext;
  readonly #concurrency: number;
  readonly #waiting: Waiting[] = [];
  #running = 0;
  #scheduled = false;
  /** Groups written and batches in them, for /health and the bench. */
  readonly stats = { groups: 0, batches: 0 };
  /** Who waits for the queue to be empty (`idle`). */
  #idleWaiters: (() => void)[] = [];

  /** Resolves when nothing is written or waiting, or after `maxWaitMs`. */
  idle(maxWaitMs: number): Promise<void> {
    if (this.#running === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, maxWaitMs));
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#idleWaiters.push(done);
    });
  }

  #wakeIdle(): void {
    if (this.#running !== 0 || this.#waiting.length !== 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  constructor(ctx: StoreContext, concurrency: number) {
    this.#ctx = ctx;
    this.#concurrency = Math.max(1, concurrency);
  }

  submit(req: IngestRequest): Promise<IngestResult> {
    // Size, caller and clock are checked here: such a refusal concerns this caller alone.
    let prepared: ReturnType<typeof prepareIngest>;
    try {
      prepared = prepareIngest(req);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ prepared, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Starts writing after the event loop's current I/O phase rather than at
   * once: requests whose bodies arrived together are parsed one after the
   * other in that phase, and SQLite's statements are synchronous, so a
   * transaction begun at once would finish before the next request was
   * even read, and no two batches would ever share one.
   */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#waiting.length > 0) {
      let findings = 0;
      let n = 0;
      while (
        n < this.#waiting.length &&
        (n === 0 || findings + this.#waiting[n]!.prepared.size <= GROUP_FINDINGS)
      ) {
        findings += this.#waiting[n]!.prepared.size;
        n++;
      }
      const group = this.#waiting.splice(0, n);
      this.stats.groups++;
      this.stats.batches += n;
      this.#running++;
      void this.#write(group).finally(() => {
        this.#running--;
        this.#schedule();
        // After the batches that arrived meanwhile have had their turn (#schedule runs first).
        setImmediate(() => this.#wakeIdle());
      });
    }
  }

  async #write(group: Waiting[]): Promise<void> {
    let outcomes: IngestOutcome[];
    try {
      outcomes = await ingestPrepared(
        this.#ctx,
        group.map((w) => w.prepared),
      );
    } catch (e) {
      if (group.length === 1) {
        group[0]!.reject(e);
        return;
      }
      for (const w of group) await this.#write([w]);
      return;
    }
    for (let i = 0; i < group.length; i++) {
      const o = outcomes[i]!;
      if ('error' in o) group[i]!.reject(o.error);
      else group[i]!.resolve(o.result);
    }
  }
}
