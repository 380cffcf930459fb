import type { ParseIssue } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import type { NetEvent } from '../core/net-event.ts';
import type { SourceItem, StreamDetector } from '../core/stages.ts';

export interface StreamOptions {
  /** The detector of network observations; it keeps its state for the whole run. */
  network: StreamDetector<NetEvent>;
  onFinding: (f: Finding) => void;
  onIssue: (i: ParseIssue) => void;
  /** Findings are handed out at least this often while input flows (wall clock: this is the I/O edge). */
  drainEveryMs?: number;
  signal?: AbortSignal;
}

export interface StreamSummary {
  events: number;
  findings: number;
  issues: number;
  sources: Record<string, number>;
}

/**
 * The long-running pipeline: batches from a live source (a capture pipe now;
 * the agent and the server next) through the stream detectors, findings
 * handed out as they become ready rather than at the end.
 */
export async function runStream(
  batches: AsyncIterable<readonly SourceItem[]>,
  opts: StreamOptions,
): Promise<StreamSummary> {
  const summary: StreamSummary = { events: 0, findings: 0, issues: 0, sources: {} };
  const emit = (fs: readonly Finding[]): void => {
    for (const f of fs) {
      summary.findings++;
      opts.onFinding(f);
    }
  };
  const every = opts.drainEveryMs ?? 1000;
  let last = Date.now();
  for await (const batch of batches) {
    for (const item of batch) {
      if (item.kind === 'net') {
        summary.events++;
        emit(opts.network.observe(item.event));
      } else if (item.kind === 'issue') {
        summary.issues++;
        opts.onIssue(item.issue);
      } else if (item.kind === 'stats') {
        for (const [k, v] of Object.entries(item.stats)) summary.sources[k] = (summary.sources[k] ?? 0) + v;
      }
    }
    if (opts.network.drain && Date.now() - last >= every) {
      last = Date.now();
      emit(opts.network.drain());
    }
    if (opts.signal?.aborted) break;
  }
  emit(opts.network.finalize());
  return summary;
}
