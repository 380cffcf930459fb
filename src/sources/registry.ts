import type { Source } from '../core/stages.ts';
import { auditdSource } from './auditd/source.ts';
import { evtxSource } from './evtx/source.ts';
import { journaldSource } from './journald/source.ts';
import { pcapSource } from './pcap/source.ts';
import { suricataSource } from './suricata/source.ts';
import { sysmonLinuxSource } from './sysmon-linux/source.ts';
import { winlogJsonSource } from './winlog-json/source.ts';
import { zeekSource } from './zeek/source.ts';

/**
 * The input formats `deminer hunt` (and `sniff -r`) read, tried in this order
 * on the first bytes of each file: a new format is one folder with a
 * `source.ts` and one line here. JSON event logs come last: Zeek and Suricata
 * JSON lines are recognised by their own field names first.
 */
export const SOURCES: readonly Source[] = [
  evtxSource,
  pcapSource,
  zeekSource,
  suricataSource,
  auditdSource,
  sysmonLinuxSource,
  journaldSource,
  winlogJsonSource,
];

/** The sources that read network observations (captures and network-monitor logs). */
export const NETWORK_SOURCES: readonly Source[] = [pcapSource, zeekSource, suricataSource];

export function sourceFor(
  head: Uint8Array,
  path: string,
  sources: readonly Source[] = SOURCES,
): Source | undefined {
  for (const s of sources) {
    try {
      if (s.sniff(head, path)) return s;
    } catch {
      // A sniffer that throws is a bug in that entry; the file is simply not its kind.
    }
  }
  return undefined;
}
