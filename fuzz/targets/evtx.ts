import { parseEvtxBuffer } from '../../src/sources/evtx/reader.ts';
import type { Features } from '../expected.ts';

/** The EVTX parser over a whole file held in memory, iterated to the end (it promises never to throw). */
export function fuzz(data: Uint8Array): Features {
  const out = new Set<string>();
  for (const item of parseEvtxBuffer(data, 'fuzz.evtx')) {
    out.add(item.kind === 'issue' ? `issue:${item.issue.code}` : item.kind);
  }
  return [...out];
}
