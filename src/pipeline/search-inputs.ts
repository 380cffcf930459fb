import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ParseIssue } from '../core/errors.ts';
import { describeError } from '../core/errors.ts';
import type { EcsEvent } from '../core/event.ts';
import type { NetEvent } from '../core/net-event.ts';
import type { Source, SourceItem } from '../core/stages.ts';
import { SOURCES } from '../sources/registry.ts';
import { recognise } from './recognise.ts';
import type { TimeWindow } from './time-window.ts';
import { inWindow, isWindowed } from './time-window.ts';
import { walkInputs } from './walk.ts';

/** What a pass over the inputs met: the same counters `hunt` reports. */
export interface InputPassStats {
  /** Files read (recognised by a source). */
  files: number;
  filesByKind: Record<string, number>;
  /** Files in walked folders that no source recognised. */
  unrecognized: number;
  /** Events read: event-log records and network observations, in and out of the window. */
  events: number;
  /** Events left out by --from/--to. */
  outOfRange: number;
  /** Problems met (unreadable files, damaged records), printed or not. */
  issues: number;
  bytes: number;
  ms: number;
}

/** Where the items of every input go; `pause` and `stopped` let the consumer hold or end the pass. */
export interface InputVisitor {
  event(e: EcsEvent, file: string): void;
  net(e: NetEvent, file: string): void;
  issue(i: ParseIssue): void;
  /** A promise to wait on before the next item (output backpressure), or undefined to go on. */
  pause?(): Promise<void> | undefined;
  /** True once the consumer has what it wants (--limit, a closed pipe): the pass ends at once. */
  stopped?(): boolean;
}

export interface InputPassOptions {
  paths: readonly string[];
  window?: TimeWindow;
  sources?: readonly Source[];
  signal?: AbortSignal;
}

/**
 * One pass over files and folders the way `hunt` reads them (same walker,
 * same content sniffing, same sources), for commands that look at every
 * event rather than run detectors: `search` and `metrics`. Items go to the
 * visitor as they are read, so nothing is held beyond one input batch; bad
 * input is reported to the visitor and skipped.
 */
export async function readAllInputs(opts: InputPassOptions, visitor: InputVisitor): Promise<InputPassStats> {
  const t0 = performance.now();
  const sources = opts.sources ?? SOURCES;
  const window = opts.window ?? {};
  const timed = isWindowed(window);
  const stats: InputPassStats = {
    files: 0,
    filesByKind: {},
    unrecognized: 0,
    events: 0,
    outOfRange: 0,
    issues: 0,
    bytes: 0,
    ms: 0,
  };
  const issue = (i: ParseIssue): void => {
    stats.issues++;
    visitor.issue(i);
  };
  const stopped = (): boolean => opts.signal?.aborted === true || visitor.stopped?.() === true;

  const walked = await walkInputs(opts.paths);
  for (const i of walked.issues) issue(i);

  let turn = performance.now();
  for (const file of walked.files) {
    if (performance.now() - turn > 50) {
      await nextTurn();
      turn = performance.now();
    }
    if (stopped()) break;
    const source = recognise(file, sources, issue);
    if (source === undefined) continue;
    if (source === 'unknown') {
      stats.unrecognized++;
      continue;
    }
    stats.files++;
    stats.filesByKind[source.name] = (stats.filesByKind[source.name] ?? 0) + 1;
    stats.bytes += file.size;

    const take = (item: SourceItem): void => {
      switch (item.kind) {
        case 'event':
          stats.events++;
          if (timed && !inWindow(window, Date.parse(item.event['@timestamp'] ?? ''))) stats.outOfRange++;
          else visitor.event(item.event, file.path);
          break;
        case 'net':
          stats.events++;
          if (timed && !inWindow(window, item.event.tsMs)) stats.outOfRange++;
          else visitor.net(item.event, file.path);
          break;
        case 'issue':
          issue(item.issue);
          break;
        case 'stats':
          break;
      }
    };
    // What to wait for before the next item: the consumer's output, or (now and then) one turn of the
    // event loop, since sources may read synchronously and signals, timers and stream errors (a closed
    // pipe) must get in. Undefined most of the time: no promise per item.
    let n = 0;
    const waitFor = (): Promise<unknown> | undefined => {
      const wait = visitor.pause?.();
      if (wait) return wait;
      if ((++n & 255) === 0 && performance.now() - turn > 50) {
        turn = performance.now();
        return nextTurn();
      }
      return undefined;
    };

    const ctx = opts.signal ? { signal: opts.signal } : {};
    try {
      const loaded = source.load ? await source.load(file.path, file.size, ctx) : undefined;
      if (loaded) {
        for (const item of loaded) {
          take(item);
          if (stopped()) break;
          const wait = waitFor();
          if (wait) await wait;
        }
      } else {
        outer: for await (const batch of source.read(file.path, ctx)) {
          for (const item of batch) {
            take(item);
            if (stopped()) break outer;
            const wait = waitFor();
            if (wait) await wait;
          }
        }
      }
    } catch (e) {
      issue({ code: 'HUNT_READ_FAILED', message: describeError(e), location: file.path });
    }
  }
  stats.ms = Math.round(performance.now() - t0);
  return stats;
}
