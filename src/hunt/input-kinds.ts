import type { ParseIssue } from '../core/errors.ts';
import type { EcsEvent } from '../core/event.ts';
import type { Finding } from '../core/finding.ts';
import type { IntelEngine } from '../detect/intel/index.ts';
import { networkInputKind } from '../detect/network/hunt-input.ts';
import { isEvtx, readEvtxFile } from '../sources/evtx/index.ts';
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
}

export const HEAD_BYTES = 4096;

const evtx: InputKind = {
  name: 'evtx',
  sniff: (head) => isEvtx(head),
  async *read(path, ctx) {
    for await (const item of readEvtxFile(path, ctx.signal ? { signal: ctx.signal } : {})) {
      if (item.kind === 'issue') {
        yield item;
        continue;
      }
      const r = item.record;
      const event = fromDumperLayout(r.event);
      if (!event) {
        yield {
          kind: 'issue',
          issue: {
            code: 'EVTX_NO_SYSTEM',
            message: 'record without Event.System',
            location: `${path}:${r.offset}`,
          },
        };
        continue;
      }
      if (event.winlog.record_id === undefined) event.winlog.record_id = r.recordId;
      if (!event['@timestamp']) {
        const ms = Date.parse(r.timestamp);
        if (!Number.isNaN(ms)) event['@timestamp'] = new Date(ms).toISOString();
      }
      event.log = { file: { path }, offset: r.offset };
      yield { kind: 'event', event };
    }
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
