import type { Finding } from './finding.ts';
import type { ProcessInfo } from './host-snapshot.ts';

/** A collected process in the ECS `process` fields of a finding (host scan and agent baselines alike). */
export function ecsProcess(p: ProcessInfo): NonNullable<Finding['process']> {
  const out: NonNullable<Finding['process']> = { pid: p.pid, ppid: p.ppid, name: p.name };
  if (p.exe) out.executable = p.exe;
  if (p.argv.length) {
    out.command_line = p.argv.join(' ');
    out.args = p.argv;
  }
  if (p.cwd) out.working_directory = p.cwd;
  if (p.startTime) out.start = p.startTime;
  if (p.sha256) out.hash = { sha256: p.sha256 };
  if (p.uid !== undefined) out.user = { id: String(p.uid), ...(p.user ? { name: p.user } : {}) };
  return out;
}
