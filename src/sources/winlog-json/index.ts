import type { ParseIssue } from '../../core/errors.ts';
import type { EcsEvent } from '../../core/event.ts';
import { readJsonDocuments } from './json-documents.ts';
import { fromJsonDocument } from './normalize.ts';

export { fromDumperLayout, fromEcsDocument, fromJsonDocument, fromWinlogbeat } from './normalize.ts';

export type WinlogJsonItem = { kind: 'event'; event: EcsEvent } | { kind: 'issue'; issue: ParseIssue };

/**
 * Event-log exports in JSON: the EVTX-dumper layout (`Event.System…`) and
 * Winlogbeat/Elastic `winlog.*` documents, and ECS documents of other
 * Elastic sources (`event` plus `process`, `destination`, `dns`…), as JSON
 * Lines, concatenated documents or an array.
 */
export async function* readWinlogJson(path: string): AsyncGenerator<WinlogJsonItem> {
  for await (const item of readJsonDocuments(path)) {
    if (item.kind === 'issue') {
      yield item;
      continue;
    }
    const event = fromJsonDocument(item.doc);
    if (!event) {
      yield {
        kind: 'issue',
        issue: {
          code: 'WINLOG_UNKNOWN_LAYOUT',
          message: 'neither an Event.System record, a winlog.* document nor an ECS event',
          location: `${path}:${item.line}`,
        },
      };
      continue;
    }
    event.log = { file: { path }, line: item.line };
    yield { kind: 'event', event };
  }
}

/** Whether the start of a file looks like a JSON event-log export. */
export function sniffWinlogJson(head: Uint8Array): boolean {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const t = text.replace(/^\uFEFF/, '').trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return false;
  return (
    /"Event"\s*:\s*\{/.test(t) ||
    /"winlog"\s*:\s*\{/.test(t) ||
    /"System"\s*:\s*\{/.test(t) ||
    (/"event"\s*:\s*\{/.test(t) && /"(?:process|destination|dns|file|registry)"\s*:\s*\{/.test(t))
  );
}
