import type { ParseOptions, ParseResult } from './sink.ts';
import { ParseSink, parseJsonInto, parseTime } from './sink.ts';

interface MispAttribute {
  type?: unknown;
  value?: unknown;
  to_ids?: unknown;
  deleted?: unknown;
  first_seen?: unknown;
  last_seen?: unknown;
  timestamp?: unknown;
}

/**
 * MISP events (`{"Event": …}`, a list of them, or the API's
 * `{"response": […]}`): network attributes flagged `to_ids`, from the event
 * and from its objects. Attributes not meant for detection are ignored, as
 * MISP itself does when it exports IDS rules.
 */
export function parseMispEvent(text: string, options: ParseOptions): ParseResult {
  const sink = new ParseSink(options);
  const parsed = parseJsonInto(sink, text);
  if (!parsed) return sink.result;
  const doc = parsed.doc;
  const events = eventsOf(doc);
  if (events.length === 0) {
    sink.issue('INTEL_NOT_MISP_EVENT', 'expected a MISP event ({"Event": {...}})', 1);
    return sink.result;
  }
  events.forEach((ev, e) => {
    const attrs: [MispAttribute, string][] = [];
    const list = Array.isArray(ev.Attribute) ? (ev.Attribute as MispAttribute[]) : [];
    list.forEach((a, i) => {
      attrs.push([a, `Event[${e}].Attribute[${i}]`]);
    });
    const objs = Array.isArray(ev.Object) ? (ev.Object as { Attribute?: unknown }[]) : [];
    objs.forEach((o, j) => {
      if (Array.isArray(o?.Attribute))
        for (const [i, a] of (o.Attribute as MispAttribute[]).entries())
          attrs.push([a, `Event[${e}].Object[${j}].Attribute[${i}]`]);
    });
    for (const [a, where] of attrs) attribute(sink, a, where);
  });
  return sink.result;
}

function eventsOf(doc: unknown): Record<string, unknown>[] {
  if (Array.isArray(doc)) return doc.flatMap(eventsOf);
  if (doc === null || typeof doc !== 'object') return [];
  const d = doc as Record<string, unknown>;
  if (Array.isArray(d.response)) return d.response.flatMap(eventsOf);
  if (d.Event && typeof d.Event === 'object') return [d.Event as Record<string, unknown>];
  if (Array.isArray(d.Attribute)) return [d];
  return [];
}

function attribute(sink: ParseSink, a: MispAttribute, where: string): void {
  if (a === null || typeof a !== 'object' || typeof a.type !== 'string' || typeof a.value !== 'string') {
    sink.issue('INTEL_BAD_ATTRIBUTE', 'attribute without type and value', where);
    return;
  }
  if (a.deleted === true || a.to_ids === false || a.to_ids === '0') {
    sink.ignore();
    return;
  }
  const extra: { firstSeen?: number; lastSeen?: number } = {};
  const fs = parseTime(a.first_seen);
  if (fs) extra.firstSeen = fs;
  const ls = parseTime(a.last_seen) ?? parseTime(a.timestamp);
  if (ls) extra.lastSeen = ls;
  const [left, right] = a.value.split('|');
  switch (a.type) {
    case 'domain':
    case 'hostname': {
      sink.value(a.value, where, extra, ['domain']);
      return;
    }
    case 'ip-dst':
    case 'ip-src': {
      sink.value(a.value, where, extra, ['ipv4', 'ipv6', 'ipv4-cidr', 'ipv6-cidr']);
      return;
    }
    case 'url':
    case 'link': {
      sink.value(a.value, where, extra, ['url']);
      return;
    }
    case 'domain|ip':
      sink.value(left ?? '', where, extra, ['domain']);
      {
        sink.value(right ?? '', where, extra, ['ipv4', 'ipv6']);
        return;
      }
    case 'hostname|port': {
      sink.value(left ?? '', where, extra, ['domain']);
      return;
    }
    case 'ip-dst|port':
    case 'ip-src|port': {
      const ip = left ?? '';
      sink.value(ip.includes(':') ? `[${ip}]:${right}` : `${ip}:${right}`, where, extra, ['ip-port']);
      return;
    }
    default: {
      sink.ignore();
      return;
    }
  }
}
