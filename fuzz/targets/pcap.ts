import { captureItems } from '../../src/sources/pcap/source.ts';
import type { Features } from '../expected.ts';

/** Feeds the bytes in two pieces so that the reader's carry-over between chunks is exercised too. */
async function* twoChunks(data: Uint8Array): AsyncGenerator<Uint8Array> {
  const cut = data.length > 0 ? data[0]! % (data.length + 1) : 0;
  yield data.subarray(0, cut);
  yield data.subarray(cut);
}

/** pcap and pcapng through the reader and the protocol analyzer, as `hunt` and `sniff` run them. */
export async function fuzz(data: Uint8Array): Promise<Features> {
  const out = new Set<string>();
  for await (const batch of captureItems(twoChunks(data), 'fuzz.pcap')) {
    for (const item of batch) {
      if (item.kind === 'issue') out.add(`issue:${item.issue.code}`);
      else if (item.kind === 'net') out.add(`net:${item.event.kind}`);
      else out.add(item.kind);
    }
  }
  return [...out];
}
