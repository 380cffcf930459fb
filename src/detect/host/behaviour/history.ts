import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { ProcessInfo } from '../../../core/host-snapshot.ts';

/**
 * The agent's per-binary behaviour baseline over days: on which days each
 * package-owned program of this host behaved like a miner to the model.
 *
 * A database server that computes steadily every night is this host's
 * normal; the first night it is a medium finding, and after it has been so
 * on `BASELINE_DAYS` earlier days it is noted at low with the days it was
 * seen. Only binaries a package owns (and not deleted since they started)
 * are baselined, keyed by path and content hash: a miner dropped on the
 * host before the agent came is never learned as normal, and a package
 * binary replaced by another file starts again from nothing.
 *
 * Bounded: at most `MAX_BINARIES` binaries (the least recently seen go
 * first) and `MAX_DAYS` days each. Kept in the agent's state folder.
 */
export const BASELINE_DAYS = 3;
const MAX_BINARIES = 2048;
const MAX_DAYS = 60;
const DAY_MS = 86_400_000;

const FileSchema = z.strictObject({
  format: z.literal('deminer-behaviour-history'),
  version: z.literal(1),
  binaries: z
    .array(
      z.strictObject({
        key: z.string().max(4200),
        days: z.array(z.number().int().nonnegative()).max(MAX_DAYS),
      }),
    )
    .max(MAX_BINARIES),
});

/** The day number (UTC) of an ISO time. */
export function dayOf(iso: string): number {
  return Math.floor(Date.parse(iso) / DAY_MS);
}

export class BehaviourHistory {
  /** key → ascending day numbers; Map order is recency (re-inserted when noted). */
  readonly #days = new Map<string, number[]>();
  #dirty = false;

  /** The baseline key of a process, or undefined when it is not one to baseline. */
  static keyOf(p: ProcessInfo): string | undefined {
    if (p.packaged !== true || p.exeDeleted || !p.exe) return undefined;
    return `${p.exe}\u0000${p.sha256 ?? p.behaviour?.exeSha256 ?? ''}`;
  }

  /** Days before `day` on which this binary behaved like a miner. */
  daysBefore(key: string, day: number): number {
    const d = this.#days.get(key);
    if (!d) return 0;
    let n = 0;
    for (const x of d) if (x < day) n++;
    return n;
  }

  /** Notes that the binary behaved like a miner on `day`. */
  note(key: string, day: number): void {
    const d = this.#days.get(key) ?? [];
    this.#days.delete(key);
    if (!d.includes(day)) {
      d.push(day);
      d.sort((a, b) => a - b);
      if (d.length > MAX_DAYS) d.splice(0, d.length - MAX_DAYS);
      this.#dirty = true;
    }
    this.#days.set(key, d);
    while (this.#days.size > MAX_BINARIES) {
      this.#days.delete(this.#days.keys().next().value!);
      this.#dirty = true;
    }
  }

  get size(): number {
    return this.#days.size;
  }

  /** Reads a saved history; a missing file is an empty one, a damaged one is named and set aside. */
  static load(path: string, warn?: (m: string) => void): BehaviourHistory {
    const h = new BehaviourHistory();
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return h;
    }
    const parsed = (() => {
      try {
        return FileSchema.safeParse(JSON.parse(text));
      } catch {
        return undefined;
      }
    })();
    if (!parsed?.success) {
      warn?.(`${path}: not a behaviour history; starting a new one (the old file is kept as ${path}.bad)`);
      try {
        renameSync(path, `${path}.bad`);
      } catch {}
      return h;
    }
    for (const b of parsed.data.binaries)
      h.#days.set(
        b.key,
        [...new Set(b.days)].sort((x, y) => x - y),
      );
    return h;
  }

  /** Writes the history when it changed (write aside, then rename over). */
  save(path: string): void {
    if (!this.#dirty) return;
    const body = {
      format: 'deminer-behaviour-history',
      version: 1,
      binaries: [...this.#days].map(([key, days]) => ({ key, days })),
    };
    writeFileSync(`${path}.tmp`, `${JSON.stringify(body)}\n`, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    this.#dirty = false;
  }
}
