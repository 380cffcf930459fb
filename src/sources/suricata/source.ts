import type { Source } from '../../core/stages.ts';
import { lineRecords } from '../batched.ts';
import { parseEveLine } from './eve-json.ts';

/** Whether the start of a file is Suricata EVE JSON (an `event_type` field; an `eve*.json` name with a timestamp). */
export function isEveJson(head: Uint8Array, path: string): boolean {
  let text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = text.split('\n', 1)[0]?.trim() ?? '';
  if (!first.startsWith('{')) return false;
  if (/"event_type"\s*:/.test(first)) return true;
  return /eve[^/\\]*\.json$/i.test(path) && /"timestamp"\s*:/.test(first);
}

/** Suricata eve.json: flow, dns, tls, http and alert records. */
export const suricataSource: Source = {
  name: 'suricata',
  sniff: (head, path) => isEveJson(head, path),
  read: (path) => lineRecords(path, 'EVE_LINE_TOO_LONG', (line, n) => parseEveLine(line, path, n)),
};
