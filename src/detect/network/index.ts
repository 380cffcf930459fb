import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ParseIssue } from '../../core/errors.ts';
import type { Finding } from '../../core/finding.ts';
import { CaptureReader, captureFormatOf } from '../../sources/pcap/capture-reader.ts';
import { parseEveLine } from '../../sources/suricata/eve-json.ts';
import { ZeekLogParser } from '../../sources/zeek/zeek-log.ts';
import type { IntelEngine } from '../intel/index.ts';
import type { AnalyzerStats } from './capture-analyzer.ts';
import { CaptureAnalyzer } from './capture-analyzer.ts';
import type { NetworkLists } from './lists.ts';
import { networkLists } from './lists.ts';
import type { NetEvent } from './net-event.ts';
import type { NetworkDetectorOptions } from './network-detector.ts';
import { NetworkDetector } from './network-detector.ts';

export type NetworkKind = 'pcap' | 'pcapng' | 'zeek' | 'suricata';

/** Content detection (the first bytes of a file; 4 KiB is plenty), the path only as a tie-breaker. */
export function sniffNetworkKind(head: Uint8Array, path: string): NetworkKind | undefined {
  const cap = captureFormatOf(head);
  if (cap) return cap;
  let text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 65536));
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trimStart().startsWith('#separator')) return 'zeek';
  const first = text.split('\n', 1)[0]?.trim() ?? '';
  if (!first.startsWith('{')) return undefined;
  if (/"event_type"\s*:/.test(first)) return 'suricata';
  if (
    /"id\.orig_h"\s*:|"uid"\s*:|"fuid"\s*:|"certificate\.subject"\s*:/.test(first) &&
    /"ts"\s*:/.test(first)
  )
    return 'zeek';
  if (/eve[^/\\]*\.json$/i.test(path) && /"timestamp"\s*:/.test(first)) return 'suricata';
  return undefined;
}

export interface AnalyzeOptions {
  detector?: Partial<Omit<NetworkDetectorOptions, 'lists' | 'intel'>>;
  lists?: NetworkLists;
  /** Threat intelligence for pool names and addresses; without it only the built-in floor is checked. */
  intel?: IntelEngine | undefined;
  /** Called once at the end with the capture counters (pcap/pcapng only). */
  onStats?: (s: AnalyzerStats & { packets: number; kind: NetworkKind }) => void;
  /** Every observation, for callers that want them (e.g. to print DNS names). */
  onEvent?: (e: NetEvent) => void;
}

/**
 * A capture, Zeek log or Suricata eve.json in, findings (and the issues met
 * on the way) out. Streaming: memory stays bounded whatever the file size.
 */
export async function* analyzeNetworkFile(
  path: string,
  opts: AnalyzeOptions = {},
): AsyncIterable<Finding | ParseIssue> {
  let head: Uint8Array;
  try {
    const fh = await open(path, 'r');
    try {
      const b = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(b, 0, 4096, 0);
      head = b.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    yield { code: 'NET_UNREADABLE', message: `cannot read: ${(e as Error).message}`, location: path };
    return;
  }
  const kind = sniffNetworkKind(head, path);
  if (!kind) {
    yield {
      code: 'NET_UNKNOWN_FORMAT',
      message: 'not a pcap, pcapng, Zeek log or Suricata eve.json',
      location: path,
    };
    return;
  }
  const lists = opts.lists ?? networkLists();
  const detector = new NetworkDetector({ ...opts.detector, lists, intel: opts.intel });
  const observe = opts.onEvent
    ? (e: NetEvent) => {
        opts.onEvent!(e);
        detector.observe(e);
      }
    : (e: NetEvent) => detector.observe(e);
  if (kind === 'pcap' || kind === 'pcapng') {
    yield* analyzeCaptureStream(
      createReadStream(path, { highWaterMark: 4 << 20 }),
      path,
      detector,
      lists,
      observe,
      (s) => opts.onStats?.({ ...s, kind }),
    );
  } else {
    const zeek = kind === 'zeek' ? new ZeekLogParser(path) : undefined;
    const rl = createInterface({
      input: createReadStream(path, { encoding: 'utf8' }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let n = 0;
    for await (const line of rl) {
      n++;
      const r = zeek ? zeek.line(line) : parseEveLine(line, path, n);
      if (!r) continue;
      if ('code' in r) yield r;
      else observe(r);
    }
  }
  yield* detector.finalize();
}

/**
 * Runs a capture byte stream (file or `tcpdump -w -` pipe) through the
 * reader, analyzer and detector. Issues are yielded as they come; findings
 * only when `drainEveryMs` is set (live capture) and at the end by the caller.
 */
export async function* analyzeCaptureStream(
  input: Readable | AsyncIterable<Uint8Array>,
  name: string,
  detector: NetworkDetector,
  lists: NetworkLists,
  observe: (e: NetEvent) => void = (e) => detector.observe(e),
  onStats?: (s: AnalyzerStats & { packets: number }) => void,
  drainEveryMs?: number,
): AsyncIterable<Finding | ParseIssue> {
  const issues: ParseIssue[] = [];
  const analyzer = new CaptureAnalyzer({ file: name, lists, emit: observe, issue: (i) => issues.push(i) });
  const reader = new CaptureReader(analyzer, name);
  let lastDrain = Date.now();
  for await (const chunk of input as AsyncIterable<Uint8Array>) {
    reader.push(chunk);
    if (issues.length) yield* issues.splice(0);
    if (reader.stopped) break;
    if (drainEveryMs !== undefined && Date.now() - lastDrain >= drainEveryMs) {
      lastDrain = Date.now();
      yield* detector.drain();
    }
  }
  reader.end();
  analyzer.finish();
  if (issues.length) yield* issues.splice(0);
  onStats?.({ ...analyzer.stats, packets: reader.packets });
}

export type { NetEvent } from './net-event.ts';
export { NetworkDetector } from './network-detector.ts';
