import { createReadStream } from 'node:fs';
import type { SourceItem } from '../../core/stages.ts';
import { lineBatches } from '../batched.ts';
import { AUDIT_LIMITS, type AuditEvent, AuditJoiner } from './join.ts';
import { parseAuditLine } from './record.ts';
import { auditEventsOf } from './to-events.ts';

export { AUDIT_LIMITS, AuditJoiner } from './join.ts';
export { decodeHex, parseAuditLine } from './record.ts';
export { AUDITD_CHANNEL, auditEventsOf } from './to-events.ts';

/**
 * Audit lines are at most 8,970 bytes (the kernel's MAX_AUDIT_MESSAGE_LENGTH)
 * plus what auditd adds (node name, ENRICHED fields); a longer line is not a
 * record and is reported instead of held.
 */
export const MAX_AUDIT_LINE = 64 * 1024;

/** Whether the start of a file is an audit log: its first non-empty line is an audit record. */
export function sniffAuditd(head: Uint8Array): boolean {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const first =
    text
      .replace(/^\uFEFF/, '')
      .trimStart()
      .split('\n', 1)[0] ?? '';
  return /^(?:node=\S+ )?type=[A-Za-z0-9_[\]]+ msg=audit\(\d+\.\d+:\d+\)/.test(first);
}

function* itemsOfEvent(ev: AuditEvent, path: string): Generator<SourceItem> {
  if (ev.dropped > 0)
    yield {
      kind: 'issue',
      issue: {
        code: 'AUDITD_EVENT_TOO_LARGE',
        message: `audit event ${ev.id} has more than ${AUDIT_LIMITS.recordsPerEvent} records; ${ev.dropped} dropped`,
        location: `${path}:${ev.records[0]?.line ?? 0}`,
      },
    };
  for (const event of auditEventsOf(ev, path)) yield { kind: 'event', event };
}

/**
 * An audit log as batches of items: records joined into events (see
 * join.ts), each event turned into Sigma-ready events (to-events.ts). A line
 * that is not an audit record, or one too long to be one, is an issue with
 * its line number; the rest of the file is read on.
 */
export async function* readAuditd(path: string): AsyncGenerator<readonly SourceItem[]> {
  const joiner = new AuditJoiner();
  let badLines = 0;
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  for await (const b of lineBatches(stream, MAX_AUDIT_LINE)) {
    const items: SourceItem[] = [];
    let n = b.firstLine;
    let overlong = 0;
    for (const line of b.lines) {
      if (b.overlong[overlong] === n) {
        overlong++;
        badLines++;
        items.push({
          kind: 'issue',
          issue: {
            code: 'AUDITD_LINE_TOO_LONG',
            message: `line longer than ${MAX_AUDIT_LINE} characters; skipped`,
            location: `${path}:${n}`,
          },
        });
      } else if (line.trim() !== '') {
        const r = parseAuditLine(line, n);
        if ('error' in r) {
          badLines++;
          items.push({
            kind: 'issue',
            issue: { code: 'AUDITD_BAD_LINE', message: r.error, location: `${path}:${n}` },
          });
        } else for (const ev of joiner.push(r)) items.push(...itemsOfEvent(ev, path));
      }
      n++;
    }
    if (items.length > 0) yield items;
  }
  const items: SourceItem[] = [];
  for (const ev of joiner.flush()) items.push(...itemsOfEvent(ev, path));
  // Named for the summary, where the counters of every source are summed by name.
  const j = joiner.stats;
  items.push({
    kind: 'stats',
    stats: {
      auditEvents: j.events,
      auditEvictedEarly: j.evictedEarly,
      auditRecordsDropped: j.recordsDropped,
      auditBadLines: badLines,
    },
  });
  yield items;
}
