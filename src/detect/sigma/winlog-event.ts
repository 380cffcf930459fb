import type { EcsEvent } from '../../core/event.ts';
import { flattenInto, MapFieldView } from './field-view.ts';

/** An event from a Windows event log, as the winlog sources emit it. */
export interface WinlogEvent extends EcsEvent {
  winlog: {
    channel?: string;
    record_id?: number | string;
    event_id?: number | string;
    computer_name?: string;
    provider_name?: string;
    provider_guid?: string;
    event_data?: Record<string, unknown>;
    user_data?: Record<string, unknown>;
    /** System fields Sigma rules sometimes read (Level, Task, Opcode, Keywords, Version). */
    system?: Record<string, string>;
    user?: { identifier?: string };
  };
}

export function isWinlogEvent(e: EcsEvent): e is WinlogEvent {
  return typeof e.winlog === 'object' && e.winlog !== null;
}

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

/** The index key of an event: channel (lower case) and event id. */
export function channelOf(e: EcsEvent): string {
  return isWinlogEvent(e) ? (e.winlog.channel ?? '').toLowerCase() : '';
}
export function eventIdOf(e: EcsEvent): string {
  return isWinlogEvent(e) && e.winlog.event_id !== undefined ? String(e.winlog.event_id) : '';
}
