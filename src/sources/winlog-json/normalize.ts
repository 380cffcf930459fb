import type { EcsEvent } from '../../core/event.ts';
import type { WinlogEvent } from '../../core/winlog-event.ts';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function attr(v: unknown, name: string): unknown {
  return isRecord(v) && isRecord(v['#attributes']) ? v['#attributes'][name] : undefined;
}
function text(v: unknown): string | number | undefined {
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (isRecord(v) && (typeof v['#text'] === 'string' || typeof v['#text'] === 'number'))
    return v['#text'] as string | number;
  return undefined;
}

const SECOND_FRACTION = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})\d*Z$/;
let lastSecond = '';
let lastSecondIso: string | undefined;

/** Timestamps as UTC ISO-8601 with milliseconds (what findings carry). */
function isoTime(v: unknown): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const s = String(v);
  // Records come in time order, many per second: parse each second once. Date.parse drops digits past the millisecond.
  const m = SECOND_FRACTION.exec(s);
  // Hour 24 is valid only with a zero fraction: leave it to Date.parse.
  if (m && m[1]!.slice(11, 13) !== '24') {
    if (m[1] !== lastSecond) {
      const ms = Date.parse(`${m[1]}Z`);
      lastSecond = m[1]!;
      lastSecondIso = Number.isNaN(ms) ? undefined : new Date(ms).toISOString().slice(0, -4);
    }
    return lastSecondIso === undefined ? undefined : `${lastSecondIso}${m[2]}Z`;
  }
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * EventData in the dumper layout: named fields as keys, and unnamed `<Data>`
 * elements as a `Data` list (classic providers such as Service Control Manager
 * use names; some use only positions).
 */
function eventData(v: unknown): Record<string, unknown> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '#attributes') continue;
    if (k === 'Data' && Array.isArray(x)) {
      x.forEach((d, i) => {
        const n = attr(d, 'Name');
        const t = text(d) ?? (typeof d === 'string' ? d : undefined);
        if (typeof n === 'string') out[n] = t ?? '';
        else if (t !== undefined) out[`Data${i === 0 ? '' : i}`] = t;
      });
    } else out[k] = isRecord(x) && '#text' in x ? text(x) : x;
  }
  return out;
}

/** The EVTX-dumper JSON layout (`{Event: {System, EventData|UserData}}`) → event. */
export function fromDumperLayout(doc: unknown): WinlogEvent | undefined {
  if (!isRecord(doc) || !isRecord(doc['Event'])) return undefined;
  const ev = doc['Event'];
  const sys = ev['System'];
  if (!isRecord(sys)) return undefined;
  const eventId = text(sys['EventID']);
  const channel = text(sys['Channel']);
  const recordId = text(sys['EventRecordID']);
  const computer = text(sys['Computer']);
  const provider = attr(sys['Provider'], 'Name');
  const guid = attr(sys['Provider'], 'Guid');
  const ts = isoTime(attr(sys['TimeCreated'], 'SystemTime'));
  const system: Record<string, string> = {};
  for (const k of ['Level', 'Task', 'Opcode', 'Keywords', 'Version']) {
    const t = text(sys[k]);
    if (t !== undefined) system[k] = String(t);
  }
  const winlog: WinlogEvent['winlog'] = { system };
  if (channel !== undefined) winlog.channel = String(channel);
  if (recordId !== undefined)
    winlog.record_id = typeof recordId === 'number' ? recordId : Number(recordId) || recordId;
  if (eventId !== undefined) winlog.event_id = String(eventId);
  if (computer !== undefined) winlog.computer_name = String(computer);
  if (typeof provider === 'string') winlog.provider_name = provider;
  if (typeof guid === 'string') winlog.provider_guid = guid;
  const uid = attr(sys['Security'], 'UserID');
  if (typeof uid === 'string') winlog.user = { identifier: uid };
  const data = eventData(ev['EventData']);
  if (data) winlog.event_data = data;
  if (isRecord(ev['UserData'])) winlog.user_data = ev['UserData'];
  const out: WinlogEvent = { winlog };
  if (ts) out['@timestamp'] = ts;
  if (eventId !== undefined) out.event = { code: String(eventId) };
  if (computer !== undefined) out.host = { name: String(computer) };
  return out;
}

/** Winlogbeat / Elastic documents (`winlog.*`, possibly inside an Elasticsearch `_source`) → event. */
export function fromWinlogbeat(doc: unknown): WinlogEvent | undefined {
  let d = doc;
  if (isRecord(d) && isRecord(d['_source'])) d = d['_source'];
  if (!isRecord(d) || !isRecord(d['winlog'])) return undefined;
  const w = d['winlog'];
  // deminer's own findings carry winlog.channel/record_id too; records have an event id or data.
  if (w['event_id'] === undefined && !isRecord(w['event_data'])) return undefined;
  const winlog: WinlogEvent['winlog'] = {};
  const s = (v: unknown): string | undefined =>
    typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  const channel = s(w['channel']);
  if (channel) winlog.channel = channel;
  const eid = s(w['event_id']) ?? (isRecord(d['event']) ? s(d['event']['code']) : undefined);
  if (eid) winlog.event_id = eid;
  const rid = w['record_id'];
  if (typeof rid === 'number' || typeof rid === 'string') winlog.record_id = rid;
  const host = isRecord(d['host']) ? s(d['host']['name']) : undefined;
  const computer = s(w['computer_name']) ?? host;
  if (computer) winlog.computer_name = computer;
  const provider = s(w['provider_name']);
  if (provider) winlog.provider_name = provider;
  const guid = s(w['provider_guid']);
  if (guid) winlog.provider_guid = guid;
  if (isRecord(w['event_data'])) winlog.event_data = w['event_data'];
  if (isRecord(w['user_data'])) winlog.user_data = w['user_data'];
  const system: Record<string, string> = {};
  const task = s(w['task']);
  if (task) system['Task'] = task;
  const opcode = s(w['opcode']);
  if (opcode) system['Opcode'] = opcode;
  if (Object.keys(system).length) winlog.system = system;
  if (isRecord(w['user']) && typeof w['user']['identifier'] === 'string')
    winlog.user = { identifier: w['user']['identifier'] };
  const out: WinlogEvent = { winlog };
  const ts = isoTime(d['@timestamp']);
  if (ts) out['@timestamp'] = ts;
  if (eid) out.event = { code: eid };
  if (computer) out.host = { name: computer };
  return out;
}

/** ECS field sets an event of its own carries (Elastic Endpoint, Auditbeat, Elastic Agent). */
const ECS_SETS = [
  'process',
  'destination',
  'dns',
  'file',
  'registry',
  'network',
  'source',
  'url',
  'tls',
] as const;
const ECS_COPIED = ['event', 'host', 'user', 'agent', ...ECS_SETS] as const;

/**
 * ECS documents without `winlog` (Elastic Endpoint, Auditbeat, Elastic Agent
 * integrations; possibly inside an Elasticsearch `_source`): an `event` object
 * and at least one field set of an event. The field sets are kept as they are
 * (their dotted paths are what Sigma's ECS mappings read); only the time is
 * normalised. Nested values are not copied deeper than the document holds them.
 */
export function fromEcsDocument(doc: unknown): EcsEvent | undefined {
  let d = doc;
  if (isRecord(d) && isRecord(d['_source'])) d = d['_source'];
  if (!isRecord(d) || !isRecord(d['event']) || isRecord(d['winlog'])) return undefined;
  if (!ECS_SETS.some((k) => isRecord(d[k]))) return undefined;
  const out: EcsEvent = {};
  for (const k of ECS_COPIED) if (isRecord(d[k])) out[k] = d[k];
  const ts = isoTime(d['@timestamp']);
  if (ts) out['@timestamp'] = ts;
  return out;
}

export function fromJsonDocument(doc: unknown): EcsEvent | undefined {
  return fromDumperLayout(doc) ?? fromWinlogbeat(doc) ?? fromEcsDocument(doc);
}
