import type { Finding } from '../core/finding.ts';
import { compareFindings } from '../core/finding.ts';
import type { HostSnapshot } from '../core/host-snapshot.ts';
import { hostDetector } from '../detect/host/registry.ts';
import type { HostAnalyticContext } from '../detect/host/types.ts';
import type { BehaviourWatch } from '../sources/procfs/behaviour-watch.ts';
import type { HashPolicy } from '../sources/procfs/collect.ts';
import { collectHostSnapshot } from '../sources/procfs/collect.ts';
import { BehaviourSampler } from '../sources/procfs/sampler.ts';
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
  /** Sample per-process behaviour at 1 Hz through the window (default: true when the window allows ≥ 10 samples). */
  behaviour?: boolean;
  /** The agent's continuous sampling of busy processes: told what this scan saw, it adds their series. */
  watch?: BehaviourWatch;
}

/** Behaviour is sampled once a second; fewer samples than this say too little. */
const MIN_BEHAVIOUR_WINDOW_MS = 10_000;

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
  const live = opts.live !== false;
  // The behaviour sampler runs beside the collector's own window, once a second.
  const sampler =
    live && opts.behaviour !== false && opts.windowMs >= MIN_BEHAVIOUR_WINDOW_MS
      ? new BehaviourSampler()
      : undefined;
  let timer: NodeJS.Timeout | undefined;
  if (sampler) {
    const tick = () => sampler.sample(performance.now() - t0);
    tick();
    timer = setInterval(tick, 1000);
  }
  let snapshot: HostSnapshot;
  try {
    snapshot = await collectHostSnapshot({
      windowMs: opts.windowMs,
      fsRoot: opts.fsRoot,
      live,
      hash: opts.hash,
      ...(opts.cache ? { cache: opts.cache } : {}),
    });
  } finally {
    if (timer) clearInterval(timer);
  }
  if (sampler) {
    sampler.sample(performance.now() - t0);
    snapshot = {
      ...snapshot,
      processes: snapshot.processes.map((p) => {
        const series = p.kernelThread ? undefined : sampler.seriesOf(p.pid);
        return series ? { ...p, behaviour: series } : p;
      }),
    };
  }
  if (opts.watch && live) {
    opts.watch.observe(snapshot);
    snapshot = opts.watch.attach(snapshot);
  }
  const t1 = performance.now();
  const findings = hostDetector.detect(snapshot, opts.context).sort(compareFindings);
  const t2 = performance.now();
  return { snapshot, findings, analyzeMs: Math.round(t2 - t1), totalMs: Math.round(t2 - t0) };
}
