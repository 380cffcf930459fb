/**
 * The EVTX source: a streaming, damage-tolerant parser of Windows XML event
 * log files. See docs/evtx.md.
 */
import { recordTrees } from './chunk.ts';
import { jsonToXml } from './json-to-xml.ts';
import { fragmentToXml } from './render-xml.ts';
import type { EvtxRecord } from './types.ts';

export { isEvtx, parseEvtxBuffer, readEvtxFile } from './reader.ts';
export type { EvtxItem, EvtxRecord } from './types.ts';

/** The record as XML, the way Windows renders it. */
export function renderXml(record: EvtxRecord): string {
  const tree = recordTrees.get(record);
  // Records that did not come from this parser (copies, deserialized JSON) are rendered from their JSON.
  return tree ? fragmentToXml(tree) : jsonToXml(record.event);
}
