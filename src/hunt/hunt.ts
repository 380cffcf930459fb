import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ParseIssue } from '../core/errors.ts';
import { describeError } from '../core/errors.ts';
import type { EcsEvent } from '../core/event.ts';
import type { Finding } from '../core/finding.ts';
import type { Detector } from '../core/plugin.ts';
import type { IntelEngine } from '../detect/intel/index.ts';
import type { HuntItem, HuntReadContext, InputKind } from './input-kinds.ts';
import { HEAD_BYTES, INPUT_KINDS, kindFor } from './input-kinds.ts';
import { walkInputs } from './walk.ts';

export interface HuntProgress {
  filesDone: number;
  files: number;
  bytesDone: number;
  bytes: number;
  events: number;
}

export interface HuntOptions {
  paths: readonly string[];
  detectors: readonly Detector<EcsEvent>[];
  /** Only events at or after / before these times (ms since epoch); events without a time are kept. */
  from?: number;
  to?: number;
  kinds?: readonly InputKind[];
  signal?: AbortSignal;
  /** Threat intelligence handed to inputs that check pools themselves (network analysis). */
  intel?: IntelEngine;
  onProgress?: (p: HuntProgress) => void;
  /** Called with each finding as it is made (for streaming output); findings are also returned. */
  onFinding?: (f: Finding) => void;
}

export interface HuntStats {
  files: number;
  filesByKind: Record<string, number>;
  /** Files in walked folders that no input kind recognised. */
  unrecognized: number;
  events: number;
  /** Events left out by --from/--to. */
  outOfRange: number;
  issues: number;
  bytes: number;
  ms: number;
}

export interface HuntResult {
  findings: Finding[];
  issues: ParseIssue[];
  stats: HuntStats;
}

/** Issues beyond this many are counted but not kept. */
const MAX_KEPT_ISSUES = 1000;

/** Synchronous: one small read costs far less than three thread-pool round trips, and reading the file itself still yields to the event loop. */
function readHead(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(HEAD_BYTES);
    const bytesRead = readSync(fd, buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    closeSync(fd);
  }
}

/**
 * Hunts over files and folders: each file's kind is found by content, its
 * events go through every detector, and bad input is counted and skipped.
 */
export async function hunt(opts: HuntOptions): Promise<HuntResult> {
  const t0 = performance.now();
  const kinds = opts.kinds ?? INPUT_KINDS;
  const { files, issues } = await walkInputs(opts.paths);
  const stats: HuntStats = {
    files: 0,
    filesByKind: {},
    unrecognized: 0,
    events: 0,
    outOfRange: 0,
    issues: issues.length,
    bytes: 0,
    ms: 0,
  };
  const findings: Finding[] = [];
  const emit = (f: Finding): void => {
    findings.push(f);
    opts.onFinding?.(f);
  };
  const addIssue = (i: ParseIssue): void => {
    stats.issues++;
    if (issues.length < MAX_KEPT_ISSUES) issues.push(i);
  };
  const total = files.reduce((s, f) => s + f.size, 0);
  let bytesDone = 0;
  let filesDone = 0;
  const progress = (): void =>
    opts.onProgress?.({ filesDone, files: files.length, bytesDone, bytes: total, events: stats.events });
  const from = opts.from ?? Number.NEGATIVE_INFINITY;
  const to = opts.to ?? Number.POSITIVE_INFINITY;
  const timed = opts.from !== undefined || opts.to !== undefined;
  const ctx: HuntReadContext = {};
  if (opts.signal) ctx.signal = opts.signal;
  if (opts.intel) ctx.intel = opts.intel;

  let turn = performance.now();
  for (const file of files) {
    // Inputs may read synchronously: let signals (Ctrl-C → abort) and timers in now and then.
    if (performance.now() - turn > 50) {
      await nextTurn();
      turn = performance.now();
    }
    if (opts.signal?.aborted) break;
    let kind: InputKind | undefined;
    try {
      kind = kindFor(readHead(file.path), file.path, kinds);
    } catch (e) {
      addIssue({ code: 'HUNT_UNREADABLE', message: describeError(e), location: file.path });
    }
    if (!kind) {
      stats.unrecognized++;
      if (file.explicit)
        addIssue({
          code: 'HUNT_UNKNOWN_INPUT',
          message: `not a kind of input hunt reads (${kinds.map((k) => k.name).join(', ')})`,
          location: file.path,
        });
    } else {
      stats.files++;
      stats.filesByKind[kind.name] = (stats.filesByKind[kind.name] ?? 0) + 1;
      try {
        let n = 0;
        const take = (item: HuntItem): void => {
          if (item.kind === 'issue') addIssue(item.issue);
          else if (item.kind === 'finding') emit(item.finding);
          else {
            stats.events++;
            if (timed) {
              const t = Date.parse(item.event['@timestamp'] ?? '');
              if (!Number.isNaN(t) && (t < from || t > to)) {
                stats.outOfRange++;
                return;
              }
            }
            for (const d of opts.detectors) for (const f of d.detect(item.event)) emit(f);
          }
          if (++n % 2000 === 0) progress();
        };
        const loaded = kind.load ? await kind.load(file.path, file.size, ctx) : undefined;
        if (loaded) for (const item of loaded) take(item);
        else for await (const item of kind.read(file.path, ctx)) take(item);
      } catch (e) {
        addIssue({ code: 'HUNT_READ_FAILED', message: describeError(e), location: file.path });
      }
    }
    bytesDone += file.size;
    stats.bytes += file.size;
    filesDone++;
    progress();
  }
  for (const d of opts.detectors) for (const f of d.finalize?.() ?? []) emit(f);
  stats.ms = Math.round(performance.now() - t0);
  return { findings, issues, stats };
}
