import { createReadStream } from 'node:fs';
import type { Source, SourceItem } from '../../core/stages.ts';
import { lineBatches } from '../batched.ts';
import { parseSysmonEventXml, sysmonXmlOfLine } from './event-xml.ts';

export { parseSysmonEventXml, SYSMON_LINUX_CHANNEL, sysmonXmlOfLine } from './event-xml.ts';

/** Sysmon events with long command lines run to tens of KiB; a longer line is reported, not held. */
export const MAX_SYSMON_LINE = 1024 * 1024;

/**
 * Whether the start of a file is a syslog file (or `journalctl -u sysmon`
 * output) with Sysmon for Linux events: a line carrying an event of the
 * Linux-Sysmon provider. A syslog file whose first 4 KiB hold no Sysmon
 * event is not recognised (docs/linux-logs.md).
 */
export function sniffSysmonLinux(head: Uint8Array): boolean {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  if (
    text
      .replace(/^\uFEFF/, '')
      .trimStart()
      .startsWith('{')
  )
    return false;
  return /<Event><System><Provider Name="Linux-Sysmon"/.test(text);
}

/** Syslog lines with Sysmon for Linux events; lines of other programs are counted and skipped. */
async function* readSysmonLinux(path: string): AsyncGenerator<readonly SourceItem[]> {
  let otherLines = 0;
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  for await (const b of lineBatches(stream, MAX_SYSMON_LINE)) {
    const items: SourceItem[] = [];
    let n = b.firstLine;
    let overlong = 0;
    for (const line of b.lines) {
      const at = `${path}:${n}`;
      n++;
      if (b.overlong[overlong] === n - 1) {
        overlong++;
        items.push({
          kind: 'issue',
          issue: { code: 'SYSMON_LINE_TOO_LONG', message: 'line longer than 1 MiB; skipped', location: at },
        });
        continue;
      }
      const xml = sysmonXmlOfLine(line);
      if (xml === undefined) {
        otherLines++;
        continue;
      }
      if (typeof xml !== 'string') {
        items.push({ kind: 'issue', issue: { code: 'SYSMON_TRUNCATED', message: xml.error, location: at } });
        continue;
      }
      const event = parseSysmonEventXml(xml);
      if (typeof event === 'string') {
        items.push({ kind: 'issue', issue: { code: 'SYSMON_BAD_EVENT', message: event, location: at } });
        continue;
      }
      event.log = { file: { path }, line: n - 1 };
      items.push({ kind: 'event', event });
    }
    if (items.length > 0) yield items;
  }
  yield [{ kind: 'stats', stats: { sysmonOtherLines: otherLines } }];
}

/** Sysmon for Linux: its events as syslog writes them (`/var/log/syslog`, `journalctl -u sysmon`). */
export const sysmonLinuxSource: Source = {
  name: 'sysmon-linux',
  sniff: (head) => sniffSysmonLinux(head),
  read: (path) => readSysmonLinux(path),
};
