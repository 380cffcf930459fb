import { readFileSync } from 'node:fs';
import { UsageError } from '../../core/errors.ts';
import type { Source, SourceItem } from '../../core/stages.ts';
import { batched } from '../batched.ts';
import { fromDumperLayout } from '../winlog-json/normalize.ts';
import { isEvtx, parseEvtxBuffer, readEvtxFile } from './reader.ts';
import type { EvtxItem } from './types.ts';

function itemOf(path: string, item: EvtxItem): SourceItem {
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
const LOAD_MAX = 64 * 1024 * 1024;

function* itemsOf(path: string, buf: Uint8Array, signal: AbortSignal | undefined): Generator<SourceItem> {
  for (const item of parseEvtxBuffer(buf, path, { keepTrees: false })) {
    if (signal?.aborted) return;
    yield itemOf(path, item);
  }
}

/** Windows event logs (EVTX), read by the native parser; records become winlog events. */
export const evtxSource: Source = {
  name: 'evtx',
  sniff: (head) => isEvtx(head),
  read: (path, ctx) =>
    batched(readEvtxFile(path, { keepTrees: false, ...(ctx.signal ? { signal: ctx.signal } : {}) }), (item) =>
      itemOf(path, item),
    ),
  async load(path, size, ctx) {
    if (size > LOAD_MAX) return undefined;
    let buf: Uint8Array;
    try {
      // Synchronous: a thread-pool read costs more CPU than it saves here; the pipeline yields between files.
      buf = readFileSync(path);
    } catch (e) {
      throw new UsageError('EVTX_UNREADABLE', `cannot read: ${(e as Error).message}`, {
        location: path,
        cause: e,
      });
    }
    return itemsOf(path, buf, ctx.signal);
  },
};
