import { createReadStream } from 'node:fs';
import type { ParseIssue } from '../core/errors.ts';
import type { NetEvent } from '../core/net-event.ts';
import type { SourceItem } from '../core/stages.ts';

/** Items per batch when a reader yields one item at a time. */
const BATCH = 256;

/** Groups a one-at-a-time reader's items into batches, mapping each on the way. */
export async function* batched<T>(
  items: AsyncIterable<T>,
  map: (item: T) => SourceItem,
): AsyncGenerator<readonly SourceItem[]> {
  let batch: SourceItem[] = [];
  for await (const item of items) {
    batch.push(map(item));
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Lines longer than this are not held: they are skipped and reported by their number. */
export const MAX_LINE_CHARS = 64 * 1024 * 1024;

export interface LineBatch {
  lines: string[];
  /** Number (1-based) of `lines[0]`. */
  firstLine: number;
  /** Numbers of lines skipped for being longer than MAX_LINE_CHARS (they appear as '' in `lines`). */
  overlong: number[];
}

/**
 * Splits a text stream into lines (LF or CRLF), a batch per chunk. A line
 * spread over many chunks is gathered piece by piece (no quadratic
 * re-concatenation), and one longer than `maxLine` is dropped as it streams.
 */
export async function* lineBatches(
  chunks: AsyncIterable<string>,
  maxLine = MAX_LINE_CHARS,
): AsyncGenerator<LineBatch> {
  let pieces: string[] = [];
  let pending = 0;
  let dropping = false;
  let next = 1;
  const strip = (l: string): string => (l.endsWith('\r') ? l.slice(0, -1) : l);
  for await (const chunk of chunks) {
    let at = chunk.indexOf('\n');
    if (at < 0) {
      if (!dropping) {
        pieces.push(chunk);
        pending += chunk.length;
        if (pending > maxLine) {
          dropping = true;
          pieces = [];
        }
      }
      continue;
    }
    const batch: LineBatch = { lines: [], firstLine: next, overlong: [] };
    let from = 0;
    while (at >= 0) {
      const tail = chunk.slice(from, at);
      if (dropping || pending + tail.length > maxLine) {
        batch.lines.push('');
        batch.overlong.push(next);
      } else batch.lines.push(strip(pieces.length > 0 ? pieces.join('') + tail : tail));
      pieces = [];
      pending = 0;
      dropping = false;
      next++;
      from = at + 1;
      at = chunk.indexOf('\n', from);
    }
    const rest = chunk.slice(from);
    if (rest !== '') {
      pieces.push(rest);
      pending = rest.length;
    }
    yield batch;
  }
  if (dropping) yield { lines: [''], firstLine: next, overlong: [next] };
  else if (pending > 0) yield { lines: [strip(pieces.join(''))], firstLine: next, overlong: [] };
}

/**
 * A line-oriented log of network observations (Zeek, Suricata) as batches of
 * items: `parse` turns one line into an event, an issue or nothing; lines too
 * long to hold become `<code>` issues.
 */
export async function* lineRecords(
  path: string,
  tooLongCode: string,
  parse: (line: string, n: number) => NetEvent | ParseIssue | undefined,
  skipped: (n: number) => void = () => {},
): AsyncGenerator<readonly SourceItem[]> {
  for await (const b of lineBatches(createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 }))) {
    const items: SourceItem[] = [];
    let n = b.firstLine;
    let overlong = 0;
    for (const line of b.lines) {
      if (b.overlong[overlong] === n) {
        overlong++;
        skipped(n);
        items.push({
          kind: 'issue',
          issue: { code: tooLongCode, message: 'line longer than 64 MiB; skipped', location: `${path}:${n}` },
        });
      } else {
        const r = parse(line, n);
        if (r !== undefined)
          items.push('code' in r ? { kind: 'issue', issue: r } : { kind: 'net', event: r });
      }
      n++;
    }
    if (items.length > 0) yield items;
  }
}
