import type { WinlogEvent } from '../../core/winlog-event.ts';
import { fromDumperLayout } from '../winlog-json/normalize.ts';

/** The channel Sysmon for Linux writes in its events (`<Channel>`), which the logsource map knows. */
export const SYSMON_LINUX_CHANNEL = 'Linux-Sysmon/Operational';

const ENTITY = /&(?:#x([0-9a-fA-F]{1,6})|#(\d{1,7})|(lt|gt|amp|quot|apos));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML character and entity references as text (`&lt;`, `&#10;`…); anything else is left as written. */
export function unescapeXml(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(
    ENTITY,
    (all, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
      if (name) return NAMED[name] ?? all;
      const cp = hex ? Number.parseInt(hex, 16) : Number(dec);
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : all;
    },
  );
}

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
    out[m[1]!] = unescapeXml(m[2] ?? m[3] ?? '');
  return out;
}

/** The text of `<name>…</name>` directly in `xml`, or its attributes when it is empty (`<name …/>`). */
const elementPatterns = new Map<string, RegExp>();
function element(xml: string, name: string): { text?: string; attrs: Record<string, string> } | undefined {
  let re = elementPatterns.get(name);
  if (!re) {
    re = new RegExp(`<${name}(\\s[^>]*?)?(/>|>([^<]*)</${name}>)`);
    elementPatterns.set(name, re);
  }
  const m = re.exec(xml);
  if (!m) return undefined;
  const out: { text?: string; attrs: Record<string, string> } = { attrs: attrs(m[1] ?? '') };
  if (m[3] !== undefined) out.text = unescapeXml(m[3]);
  return out;
}

const SYSTEM_TEXT = [
  'EventID',
  'Version',
  'Level',
  'Task',
  'Opcode',
  'Keywords',
  'EventRecordID',
  'Channel',
  'Computer',
];

/**
 * One Sysmon for Linux event (`<Event><System>…</System><EventData><Data
 * Name="…">…</Data>…</EventData></Event>`, the Windows event XML schema) as
 * the winlog event the EVTX and JSON sources give: Sigma reads it with the
 * same field names as Windows Sysmon (Image, CommandLine, TargetFilename…).
 */
/** An error is returned as its message. */
export function parseSysmonEventXml(xml: string): WinlogEvent | string {
  const sysStart = xml.indexOf('<System>');
  const sysEnd = xml.indexOf('</System>');
  if (sysStart < 0 || sysEnd < sysStart) return 'Sysmon event without <System>';
  const sys = xml.slice(sysStart + 8, sysEnd);
  const system: Record<string, unknown> = {};
  for (const n of SYSTEM_TEXT) {
    const e = element(sys, n);
    if (e?.text !== undefined) system[n] = e.text;
  }
  if (system['EventID'] === undefined) return 'Sysmon event without <EventID>';
  const provider = element(sys, 'Provider');
  if (provider) system['Provider'] = { '#attributes': provider.attrs };
  const created = element(sys, 'TimeCreated');
  if (created) system['TimeCreated'] = { '#attributes': created.attrs };
  const security = element(sys, 'Security');
  if (security?.attrs['UserId'] !== undefined)
    system['Security'] = { '#attributes': { UserID: security.attrs['UserId'] } };
  const data: { '#attributes': { Name: string }; '#text': string }[] = [];
  const body = xml.slice(sysEnd);
  for (const m of body.matchAll(/<Data\s+Name\s*=\s*"([^"]*)"\s*(?:\/>|>([^<]*)<\/Data>)/g))
    data.push({ '#attributes': { Name: unescapeXml(m[1]!) }, '#text': unescapeXml(m[2] ?? '') });
  const event = fromDumperLayout({ Event: { System: system, EventData: { Data: data } } });
  if (!event) return 'Sysmon event not readable';
  return event;
}

/**
 * The Sysmon event a syslog line carries (`… sysmon: <Event>…</Event>`), or
 * undefined for a line of another program. A line with the start of an event
 * but not its end was cut by the syslog daemon (its message size limit).
 */
export function sysmonXmlOfLine(line: string): string | { error: string } | undefined {
  const start = line.indexOf('<Event>');
  const startNs = start < 0 ? line.indexOf('<Event ') : start;
  if (startNs < 0) return undefined;
  const end = line.lastIndexOf('</Event>');
  if (end < startNs)
    return { error: 'Sysmon event cut short (no </Event>): raise the syslog message size limit' };
  return line.slice(startNs, end + 8);
}
