import type { ParseIssue } from '../core/errors.ts';
import type { EcsEvent } from '../core/event.ts';
import type { NetEvent } from '../core/net-event.ts';
import type { Source, SourceItem } from '../core/stages.ts';
import type { TimeWindow } from './time-window.ts';
import { filtersIds, idPasses, inWindow, isWindowed } from './time-window.ts';

/** Where the items of one input go once the time window has been applied. */
export interface ItemHandlers {
  event(e: EcsEvent): void;
  net(e: NetEvent): void;
  issue(i: ParseIssue): void;
  stats?(s: Record<string, number>): void;
  /** Called every few thousand items, for progress. */
  tick?(): void;
}

export interface InputCounters {
  /** Events read (in and out of the window). */
  events: number;
  /** Events left out by the window. */
  outOfRange: number;
}

/**
 * Reads one input through its source: events outside the window are counted
 * and dropped here, before any detector, whatever the kind of event.
 */
export async function readInput(
  path: string,
  size: number,
  source: Source,
  window: TimeWindow,
  handlers: ItemHandlers,
  counters: InputCounters,
  signal?: AbortSignal,
): Promise<void> {
  const timed = isWindowed(window);
  const byId = filtersIds(window);
  let n = 0;
  const take = (item: SourceItem): void => {
    switch (item.kind) {
      case 'event':
        counters.events++;
        if (timed && !inWindow(window, Date.parse(item.event['@timestamp'] ?? ''))) counters.outOfRange++;
        else if (byId && !idPasses(window, item.event.event?.code)) counters.outOfRange++;
        else handlers.event(item.event);
        break;
      case 'net':
        counters.events++;
        if (timed && !inWindow(window, item.event.tsMs)) counters.outOfRange++;
        else handlers.net(item.event);
        break;
      case 'issue':
        handlers.issue(item.issue);
        break;
      case 'stats':
        handlers.stats?.(item.stats);
        break;
    }
    if (++n % 2000 === 0) handlers.tick?.();
  };
  const ctx = signal ? { signal } : {};
  const loaded = source.load ? await source.load(path, size, ctx) : undefined;
  if (loaded) {
    for (const item of loaded) take(item);
    return;
  }
  for await (const batch of source.read(path, ctx)) {
    if (signal?.aborted) return;
    for (const item of batch) take(item);
  }
}
