/**
 * The --from/--to window of a run, applied to every event before any
 * detector sees it: event-log records by `@timestamp`, network observations
 * by their capture or log time. Events without a readable time are kept.
 */
export interface TimeWindow {
  from?: number;
  to?: number;
  /**
   * Event-log records by event id (`event.code`, `--include-eid`/`--exclude-eid`):
   * only these ids, and never these. Network observations have no id and pass.
   */
  includeIds?: readonly string[];
  excludeIds?: readonly string[];
}

export function isWindowed(w: TimeWindow): boolean {
  return w.from !== undefined || w.to !== undefined;
}

/** Whether the window filters event-log records by event id. */
export function filtersIds(w: TimeWindow): boolean {
  return (w.includeIds?.length ?? 0) > 0 || (w.excludeIds?.length ?? 0) > 0;
}

/** Whether an event-log record's id passes `--include-eid`/`--exclude-eid` (records without an id pass only without include). */
export function idPasses(w: TimeWindow, code: string | undefined): boolean {
  if (w.includeIds && w.includeIds.length > 0 && (code === undefined || !w.includeIds.includes(code)))
    return false;
  if (w.excludeIds && code !== undefined && w.excludeIds.includes(code)) return false;
  return true;
}

/** Whether a time (ms since the epoch; NaN for none) falls inside the window. */
export function inWindow(w: TimeWindow, ms: number): boolean {
  if (Number.isNaN(ms)) return true;
  if (w.from !== undefined && ms < w.from) return false;
  if (w.to !== undefined && ms > w.to) return false;
  return true;
}
