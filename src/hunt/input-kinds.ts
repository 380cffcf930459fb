import { readFileSync } from 'node:fs';
import type { ParseIssue } from '../core/errors.ts';
import { UsageError } from '../core/errors.ts';
import type { EcsEvent } from '../core/event.ts';
import type { Finding } from '../core/finding.ts';
import type { IntelEngine } from '../detect/intel/index.ts';
import { networkInputKind } from '../detect/network/hunt-input.ts';
import type { EvtxItem } from '../sources/evtx/index.ts';
import { isEvtx, parseEvtxBuffer, readEvtxFile } from '../sources/evtx/index.ts';
import { readWinlogJson, sniffWinlogJson } from '../sources/winlog-json/index.ts';
import { fromDumperLayout } from '../sources/winlog-json/normalize.ts';

/**
 * What an input yields to hunt: events (run through the detectors, Sigma
 * first), findings a source already made itself (e.g. a network analyser
 * that detects while it parses), or issues (counted, reported, skipped).
 */
export type HuntItem =
  | { kind: 'event'; event: EcsEvent }
  | { kind: 'finding'; finding: Finding }
  | { kind: 'issue'; issue: ParseIssue };

export interface HuntReadContext {
  signal?: AbortSignal;
  /** Threat intelligence for inputs that check pools while they parse (network captures and logs). */
  intel?: IntelEngine;
}

/**
 * One kind of input `deminer hunt` understands. Adding a kind (pcap, Zeek,
 * Suricata…) is one entry in INPUT_KINDS:
 * - `sniff` decides by content: it gets the first HEAD_BYTES of the file (fewer
 *   for small files) and the path (use the extension only as a tie-breaker);
 *   it must be cheap and must not throw.
 * - `read` streams the file; it may throw a DeminerError only when the file
 *   cannot be opened at all; damaged content is yielded as `issue` items.
 * Entries are tried in order; the first whose `sniff` says yes reads the file.
 */
export interface InputKind {
  readonly name: string;
  sniff(head: Uint8Array, path: string): boolean;
  read(path: string, ctx: HuntReadContext): AsyncIterable<HuntItem>;
  /**
   * Optional whole-file path: reads the input at once and hands back its items
   * as a synchronous iterable, which spares one promise per item. Returns
   * undefined (then `read` is used) when the file is too large to hold.
   */
  load?(path: string, size: number, ctx: HuntReadContext): Promise<Iterable<HuntItem> | undefined>;
}

export const HEAD_BYTES = 4096;

function evtxItem(path: string, item: EvtxItem): HuntItem {
  if (item.kind === 'issue') return item;
  const r = item.record;
  const event = fromDumperLayout(r.event);
  if (!event)
    return {
      kind: 'issue',
      issue: {
        code: 'EVTX_NO_SYSTEM',
        message: 'record without Event.System',
        location: `${path}:${r.offset}`,
      },
    };
  if (event.winlog.record_id === undefined) event.winlog.record_id = r.recordId;
  if (!event['@timestamp']) {
    const ms = Date.parse(r.timestamp);
    if (!Number.isNaN(ms)) event['@timestamp'] = new Date(ms).toISOString();
  }
  event.log = { file: { path }, offset: r.offset };
  return { kind: 'event', event };
}

/** Files up to this size are read whole; larger ones are streamed a chunk at a time. */
const EVTX_LOAD_MAX = 64 * 1024 * 1024;

function* evtxItems(path: string, buf: Uint8Array, signal: AbortSignal | undefined): Generator<HuntItem> {
  for (const item of parseEvtxBuffer(buf, path, { keepTrees: false })) {
    if (signal?.aborted) return;
    yield evtxItem(path, item);
  }
}

const evtx: InputKind = {
  name: 'evtx',
  sniff: (head) => isEvtx(head),
  async *read(path, ctx) {
    for await (const item of readEvtxFile(path, {
      keepTrees: false,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    }))
      yield evtxItem(path, item);
  },
  async load(path, size, ctx) {
    if (size > EVTX_LOAD_MAX) return undefined;
    let buf: Uint8Array;
    try {
      // Synchronous: a thread-pool read costs more CPU than it saves here; hunt yields to the event loop between files.
      buf = readFileSync(path);
    } catch (e) {
      throw new UsageError('EVTX_UNREADABLE', `cannot read: ${(e as Error).message}`, {
        location: path,
        cause: e,
      });
    }
    return evtxItems(path, buf, ctx.signal);
  },
};

const winlogJson: InputKind = {
  name: 'winlog-json',
  sniff: (head) => sniffWinlogJson(head),
  read: (path) => readWinlogJson(path),
};

export const INPUT_KINDS: readonly InputKind[] = [evtx, networkInputKind, winlogJson];

export function kindFor(
  head: Uint8Array,
  path: string,
  kinds: readonly InputKind[] = INPUT_KINDS,
): InputKind | undefined {
  for (const k of kinds) {
    try {
      if (k.sniff(head, path)) return k;
    } catch {
      // A sniffer that throws is a bug in that entry; the file is simply not its kind.
    }
  }
  return undefined;
}
