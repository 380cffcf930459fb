import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where a host's tools live; looked up here, never through a shell or $PATH set by someone else. */
const BIN_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function findTool(name: string): string | undefined {
  for (const d of BIN_DIRS) if (existsSync(`${d}/${name}`)) return `${d}/${name}`;
  return undefined;
}

/** Runs a tool of this machine (no shell), bounded in time and output; undefined when it cannot run. */
export function runTool(
  name: string,
  args: readonly string[],
  opts: { timeoutMs?: number; maxBytes?: number } = {},
): { status: number | null; stdout: string; stderr: string } | undefined {
  const tool = findTool(name);
  if (!tool) return undefined;
  const r = spawnSync(tool, [...args], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: opts.maxBytes ?? 8 * 1024 * 1024,
    env: { PATH: BIN_DIRS.join(':'), LC_ALL: 'C', LANG: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error && !r.stdout) return undefined;
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
