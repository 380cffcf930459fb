import type { EcsEvent } from '../../core/event.ts';
import { isWinlogEvent } from '../../core/winlog-event.ts';

export type { WinlogEvent } from '../../core/winlog-event.ts';
export { isWinlogEvent } from '../../core/winlog-event.ts';

import { flattenInto, MapFieldView } from './field-view.ts';
import { NO_CHANNEL } from './logsource-map.ts';

/**
 * The Sigma view of an event. For event-log records: the EventData/UserData
 * names plus the System fields under the names Sigma rules use (`EventID`,
 * `Channel`, `Provider_Name`, `Computer`…). Other events: their dotted ECS paths.
 */
export function fieldViewOf(e: EcsEvent): MapFieldView {
  const m = new Map<string, string>();
  if (isWinlogEvent(e)) {
    const w = e.winlog;
    const set = (k: string, v: unknown): void => {
      if (v !== undefined && v !== null && v !== '') m.set(k, String(v));
    };
    set('eventid', w.event_id);
    set('channel', w.channel);
    set('provider_name', w.provider_name);
    set('provider_guid', w.provider_guid);
    set('computer', w.computer_name);
    set('eventrecordid', w.record_id);
    set('userid', w.user?.identifier);
    if (w.system) for (const [k, v] of Object.entries(w.system)) set(k.toLowerCase(), v);
    flattenInto(m, w.event_data, '', true);
    flattenInto(m, w.user_data, '', true);
  } else flattenInto(m, e, '', false);
  return new MapFieldView(m);
}

/** The index key of an event: channel (lower case) and event id; ECS documents have no channel. */
export function channelOf(e: EcsEvent): string {
  return isWinlogEvent(e) ? (e.winlog.channel ?? NO_CHANNEL).toLowerCase() : NO_CHANNEL;
}
export function eventIdOf(e: EcsEvent): string {
  return isWinlogEvent(e) && e.winlog.event_id !== undefined ? String(e.winlog.event_id) : '';
}
