import type { ProcessInfo } from '../../../core/host-snapshot.ts';
import { basename } from '../../../core/text.ts';
import type { AllowEntry, AnalyticOutput, HostAnalytic } from '../types.ts';
import { processSignal, userProcesses } from '../types.ts';

function globToRe(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
}

export function allowedBy(p: ProcessInfo, entries: readonly AllowEntry[]): AllowEntry | undefined {
  const exeBase = p.exe ? basename(p.exe) : undefined;
  return entries.find((e) => {
    if (
      e.name &&
      e.name.toLowerCase() !== p.name.toLowerCase() &&
      e.name.toLowerCase() !== exeBase?.toLowerCase()
    )
      return false;
    if (e.path && !(p.exe && !p.exeDeleted && globToRe(e.path).test(p.exe))) return false;
    if (e.hash && e.hash !== p.sha256) return false;
    return true;
  });
}

/** Audit mode of application allow-listing: every user process that no entry allows is reported. */
export const allowlist: HostAnalytic = {
  id: 'allowlist',
  description: 'Processes not on the application allow-list (audit mode)',
  analyze(snapshot, ctx) {
    if (!ctx.allowlist) return [];
    const out: AnalyticOutput[] = [];
    for (const p of userProcesses(snapshot)) {
      if (allowedBy(p, ctx.allowlist)) continue;
      out.push(
        processSignal(p.pid, {
          id: 'allowlist.not_allowed',
          category: 'allowlist',
          weight: 0.5,
          techniques: ['T1204.002'],
          text: `is not on the application allow-list (${p.exe ?? p.name})`,
          evidence: { exe: p.exe, sha256: p.sha256 },
        }),
      );
    }
    return out;
  },
};
