import { createReadStream } from 'node:fs';
import type { Source, SourceItem } from '../../core/stages.ts';
import { CaptureAnalyzer } from './capture-analyzer.ts';
import { CaptureReader, captureFormatOf } from './capture-reader.ts';
import { coinP2pPorts } from './coin-ports.ts';

/** Bytes handed to the reader at once: a few hundred packets' worth of events per batch. */
const SLICE = 64 * 1024;

/**
 * A capture byte stream (a file, or a live `tcpdump -w -` pipe) as batches of
 * network observations: one batch per chunk read, issues in their place, and
 * the capture's counters as a last `stats` item.
 */
export async function* captureItems(
  input: AsyncIterable<Uint8Array>,
  name: string,
): AsyncGenerator<readonly SourceItem[]> {
  let batch: SourceItem[] = [];
  const analyzer = new CaptureAnalyzer({
    file: name,
    p2pPorts: coinP2pPorts(),
    emit: (event) => batch.push({ kind: 'net', event }),
    issue: (issue) => batch.push({ kind: 'issue', issue }),
  });
  const reader = new CaptureReader(analyzer, name);
  for await (const chunk of input) {
    // A slice at a time: the events of a whole 4 MiB read would outlive the
    // young generation before the detectors see them, and promoting them all
    // costs more than the extra turns.
    for (let at = 0; at < chunk.length && !reader.stopped; at += SLICE) {
      reader.push(chunk.subarray(at, Math.min(chunk.length, at + SLICE)));
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
    }
    if (reader.stopped) break;
  }
  reader.end();
  analyzer.finish();
  batch.push({ kind: 'stats', stats: { ...analyzer.stats, packets: reader.packets } });
  yield batch;
}

/** pcap and pcapng captures (any link type the decoder knows), detected by their magic numbers. */
export const pcapSource: Source = {
  name: 'pcap',
  sniff: (head) => captureFormatOf(head) !== undefined,
  read: (path) => captureItems(createReadStream(path, { highWaterMark: 4 << 20 }), path),
};
