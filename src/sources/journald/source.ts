import { createReadStream } from 'node:fs';
import type { Source, SourceItem } from '../../core/stages.ts';
import { AuditJoiner, auditEventsOf, parseAuditLine } from '../auditd/index.ts';
import { lineBatches } from '../batched.ts';
import { parseSysmonEventXml, sysmonXmlOfLine } from '../sysmon-linux/event-xml.ts';
import { auditLineOf, fieldText, journalEventOf } from './entry.ts';

export { auditLineOf, fieldText, isoOfMicros, JOURNALD_CHANNEL, journalEventOf } from './entry.ts';

/** An entry longer than this is reported and skipped (journald keeps at most 64 KiB per field by default). */
export const MAX_JOURNAL_LINE = 4 * 1024 * 1024;
/** Fields kept per entry; the journal allows more, real entries have a few dozen. */
const MAX_FIELDS = 512;

/** Whether the start of a file is `journalctl -o json` output: a JSON object with journal fields. */
export function sniffJournald(head: Uint8Array): boolean {
  const text = new TextDecoder('utf-8', { fatal: false })
    .decode(head)
    .replace(/^[\uFEFF\u001e]/, '')
    .trimStart();
  if (!text.startsWith('{')) return false;
  const first = text.split('\n', 1)[0] ?? '';
  return /"(?:__CURSOR|__REALTIME_TIMESTAMP)"\s*:/.test(first);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `journalctl -o json` (one entry per line; `-o json-seq` too): each entry
 * an event of the `journald` channel, except Sysmon for Linux entries (their
 * MESSAGE is the event XML), which become Sysmon events, and kernel audit
 * records (`_TRANSPORT=audit`), which are joined and mapped as audit.log is.
 */
async function* readJournald(path: string): AsyncGenerator<readonly SourceItem[]> {
  const joiner = new AuditJoiner();
  let badLines = 0;
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  for await (const b of lineBatches(stream, MAX_JOURNAL_LINE)) {
    const items: SourceItem[] = [];
    let n = b.firstLine;
    let overlong = 0;
    for (const raw of b.lines) {
      const lineNo = n++;
      const at = `${path}:${lineNo}`;
      if (b.overlong[overlong] === lineNo) {
        overlong++;
        badLines++;
        items.push({
          kind: 'issue',
          issue: {
            code: 'JOURNALD_LINE_TOO_LONG',
            message: 'entry longer than 4 MiB; skipped',
            location: at,
          },
        });
        continue;
      }
      // json-seq puts an RS (0x1e) before each entry.
      const line = raw.startsWith('\u001e') ? raw.slice(1) : raw;
      if (line.trim() === '') continue;
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch (e) {
        badLines++;
        items.push({
          kind: 'issue',
          issue: { code: 'JOURNALD_BAD_LINE', message: (e as Error).message, location: at },
        });
        continue;
      }
      if (!isRecord(doc)) {
        badLines++;
        items.push({
          kind: 'issue',
          issue: {
            code: 'JOURNALD_BAD_LINE',
            message: 'expected a JSON object (one journal entry)',
            location: at,
          },
        });
        continue;
      }
      const fields = new Map<string, string>();
      for (const [k, v] of Object.entries(doc)) {
        if (fields.size >= MAX_FIELDS) break;
        const t = fieldText(v);
        if (t !== undefined) fields.set(k, t);
      }
      const audit = auditLineOf(fields);
      if (audit !== undefined) {
        const r = parseAuditLine(audit, lineNo);
        if ('error' in r)
          items.push({
            kind: 'issue',
            issue: { code: 'JOURNALD_BAD_AUDIT', message: r.error, location: at },
          });
        else
          for (const ev of joiner.push(r))
            for (const event of auditEventsOf(ev, path)) items.push({ kind: 'event', event });
        continue;
      }
      const message = fields.get('MESSAGE');
      const xml = message?.includes('Linux-Sysmon') ? sysmonXmlOfLine(message) : undefined;
      if (xml !== undefined) {
        const event = typeof xml === 'string' ? parseSysmonEventXml(xml) : xml.error;
        if (typeof event === 'string') {
          items.push({ kind: 'issue', issue: { code: 'SYSMON_BAD_EVENT', message: event, location: at } });
          continue;
        }
        event.log = { file: { path }, line: lineNo };
        items.push({ kind: 'event', event });
        continue;
      }
      const event = journalEventOf(fields);
      event.log = { file: { path }, line: lineNo };
      items.push({ kind: 'event', event });
    }
    if (items.length > 0) yield items;
  }
  const items: SourceItem[] = [];
  for (const ev of joiner.flush())
    for (const event of auditEventsOf(ev, path)) items.push({ kind: 'event', event });
  items.push({ kind: 'stats', stats: { journalBadLines: badLines, auditEvents: joiner.stats.events } });
  yield items;
}

/** journald's JSON export (`journalctl -o json`). */
export const journaldSource: Source = {
  name: 'journald',
  sniff: (head) => sniffJournald(head),
  read: (path) => readJournald(path),
};
