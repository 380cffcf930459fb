import type { Finding } from '../../core/finding.ts';
import type { HostSnapshot } from '../../sources/procfs/types.ts';
import { allowlist } from './allowlist/index.ts';
import { correlate } from './correlate.ts';
import { cpu } from './cpu/index.ts';
import { masquerade } from './masquerade/index.ts';
import { minerCmdline } from './miner-cmdline/index.ts';
import { persistence } from './persistence/index.ts';
import { poolConnections } from './pool-connections/index.ts';
import type { AnalyticOutput, HostAnalytic, HostAnalyticContext } from './types.ts';

/** The host analytics `deminer scan` runs. A new one is a folder here plus one line. */
export const HOST_ANALYTICS: readonly HostAnalytic[] = [
  minerCmdline,
  masquerade,
  cpu,
  poolConnections,
  persistence,
  allowlist,
];

/** Pure: snapshot in, findings out. */
export function analyzeHost(snapshot: HostSnapshot, ctx: HostAnalyticContext = {}): Finding[] {
  const outputs: AnalyticOutput[] = [];
  for (const a of HOST_ANALYTICS) outputs.push(...a.analyze(snapshot, ctx));
  return correlate(snapshot, outputs);
}
