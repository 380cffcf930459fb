import type { Finding } from '../core/finding.ts';
import { compareFindings } from '../core/finding.ts';
import type { HostSnapshot } from '../core/host-snapshot.ts';
import { hostDetector } from '../detect/host/registry.ts';
import type { HostAnalyticContext } from '../detect/host/types.ts';
import type { HashPolicy } from '../sources/procfs/collect.ts';
import { collectHostSnapshot } from '../sources/procfs/collect.ts';
import type { ScanCache } from '../sources/procfs/scan-cache.ts';

export { ScanCache } from '../sources/procfs/scan-cache.ts';

export interface ScanOptions {
  windowMs: number;
  fsRoot: string;
  /** Also this machine's processes and sockets (false: the files under fsRoot only). */
  live?: boolean;
  hash: HashPolicy;
  context: HostAnalyticContext;
  /** Kept by a scanner that runs again and again (the agent): unchanged processes and files are not read twice. */
  cache?: ScanCache;
}

export interface ScanResult {
  snapshot: HostSnapshot;
  /** Most severe first. */
  findings: Finding[];
  analyzeMs: number;
  totalMs: number;
}

/** One-shot host scan: the procfs source takes a snapshot, the host detector judges it. */
export async function scanHost(opts: ScanOptions): Promise<ScanResult> {
  const t0 = performance.now();
  const snapshot = await collectHostSnapshot({
    windowMs: opts.windowMs,
    fsRoot: opts.fsRoot,
    live: opts.live !== false,
    hash: opts.hash,
    ...(opts.cache ? { cache: opts.cache } : {}),
  });
  const t1 = performance.now();
  const findings = hostDetector.detect(snapshot, opts.context).sort(compareFindings);
  const t2 = performance.now();
  return { snapshot, findings, analyzeMs: Math.round(t2 - t1), totalMs: Math.round(t2 - t0) };
}
