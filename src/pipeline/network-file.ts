import type { ParseIssue } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import type { NetEvent } from '../core/net-event.ts';
import type { NetworkLists } from '../detect/network/lists.ts';
import { networkLists } from '../detect/network/lists.ts';
import type { NetworkDetectorOptions } from '../detect/network/network-detector.ts';
import { NetworkDetector } from '../detect/network/network-detector.ts';
import type { IntelEngine } from '../intel/index.ts';
import { NETWORK_SOURCES, sourceFor } from '../sources/registry.ts';
import { readHead } from './read-head.ts';
import { readInput } from './read-input.ts';

export interface AnalyzeOptions {
  detector?: Partial<Omit<NetworkDetectorOptions, 'lists' | 'intel'>>;
  lists?: NetworkLists;
  /** Threat intelligence for pool names and addresses; without it only the built-in pool list is checked. */
  intel?: IntelEngine | undefined;
  /** Called once at the end with the source's counters (packets, malformed frames… for captures). */
  onStats?: (s: { kind: string; packets: number; counters: Record<string, number> }) => void;
  /** Every observation, for callers that want them (e.g. to print DNS names). */
  onEvent?: (e: NetEvent) => void;
}

/**
 * One capture, Zeek log or Suricata eve.json through its source and a network
 * detector of its own: findings (and the issues met on the way) out. For
 * benchmarks and tools that look at one file; `hunt` keeps one detector for
 * all its inputs.
 */
export async function* analyzeNetworkFile(
  path: string,
  opts: AnalyzeOptions = {},
): AsyncIterable<Finding | ParseIssue> {
  let head: Uint8Array;
  try {
    head = readHead(path);
  } catch (e) {
    yield { code: 'NET_UNREADABLE', message: `cannot read: ${(e as Error).message}`, location: path };
    return;
  }
  const source = sourceFor(head, path, NETWORK_SOURCES);
  if (!source) {
    yield {
      code: 'NET_UNKNOWN_FORMAT',
      message: 'not a pcap, pcapng, Zeek log or Suricata eve.json',
      location: path,
    };
    return;
  }
  const detector = new NetworkDetector({
    ...opts.detector,
    lists: opts.lists ?? networkLists(),
    intel: opts.intel,
  });
  const out: (Finding | ParseIssue)[] = [];
  const stats: Record<string, number> = {};
  await readInput(
    path,
    Number.POSITIVE_INFINITY,
    source,
    {},
    {
      event: () => {},
      net: (e) => {
        opts.onEvent?.(e);
        for (const f of detector.observe(e)) out.push(f);
      },
      issue: (i) => out.push(i),
      stats: (s) => Object.assign(stats, s),
    },
    { events: 0, outOfRange: 0 },
  );
  yield* out;
  opts.onStats?.({ kind: source.name, packets: stats['packets'] ?? 0, counters: stats });
  yield* detector.finalize();
}
