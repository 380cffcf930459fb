import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ProcessTarget } from '../respond/host-tasks/protocol.ts';
import { parseStat, type StatFields } from '../sources/procfs/proc-parse.ts';

/**
 * Which live processes a task's targets name (forensics.ts, eradicate.ts).
 * A finding names a process by pid and start time: a pid whose process
 * started at another time is a different process (the pid was reused), and
 * is never touched. A target with an executable path also names every other
 * process running that file (the miner restarted, or runs several copies).
 */

/** Linux's USER_HZ on every architecture deminer runs on (sysconf(_SC_CLK_TCK)). */
const CLK_TCK = 100;
/** Start times are compared to the second: the finding's was computed the same way. */
const START_SLACK_MS = 1500;
const MAX_PROCESSES = 1_000_000;

export interface LiveProcess {
  pid: number;
  stat: StatFields;
  /** The executable link, without " (deleted)". */
  exe: string | undefined;
  deleted: boolean;
  start: string | undefined;
}

function bootTimeMs(proc: string): number {
  try {
    const m = /^btime\s+(\d+)/m.exec(readFileSync(`${proc}/stat`, 'latin1'));
    return m ? Number(m[1]) * 1000 : 0;
  } catch {
    return 0;
  }
}

export function readProcess(pid: number, proc = '/proc', btime = bootTimeMs(proc)): LiveProcess | undefined {
  let stat: StatFields | undefined;
  try {
    stat = parseStat(readFileSync(`${proc}/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
  if (!stat) return undefined;
  let exe: string | undefined;
  let deleted = false;
  try {
    exe = readlinkSync(`${proc}/${pid}/exe`);
    if (exe.endsWith(' (deleted)')) {
      deleted = true;
      exe = exe.slice(0, -' (deleted)'.length);
    }
  } catch {
    exe = undefined;
  }
  const start = btime > 0 ? new Date(btime + (stat.startTicks * 1000) / CLK_TCK).toISOString() : undefined;
  return { pid, stat, exe, deleted, start };
}

export function listPids(proc = '/proc'): number[] {
  const out: number[] = [];
  for (const name of readdirSync(proc)) {
    if (out.length >= MAX_PROCESSES) break;
    if (/^\d{1,10}$/.test(name)) out.push(Number(name));
  }
  return out;
}

export interface Resolved {
  processes: LiveProcess[];
  /** Targets that named no live process, and why. */
  missed: { target: string; why: string }[];
}

export function describeTarget(t: ProcessTarget): string {
  return (
    [t.pid === undefined ? '' : `pid ${t.pid}`, t.executable ?? ''].filter(Boolean).join(' ') || 'a process'
  );
}

/**
 * Executables in these folders belong to the system's packages: a target
 * there is its own pid only, never every process running that program (a
 * miner that masquerades as one does not run from the real path; one that
 * replaced the real file is found by its pid).
 */
export const SYSTEM_DIRS = /^\/(usr\/)?(s?bin|lib|lib32|lib64|libexec)\/|^\/snap\//;

/** This agent and its ancestors, and init: never a target whatever a finding says. */
function untouchable(proc: string): Set<number> {
  const out = new Set<number>([0, 1, process.pid]);
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1 && !out.has(pid); i++) {
    out.add(pid);
    pid = readProcess(pid, proc, 0)?.stat.ppid ?? 0;
  }
  return out;
}

/** The live processes the targets name (by pid with a matching start time, or by executable path). */
export function resolveTargets(targets: readonly ProcessTarget[], proc = '/proc'): Resolved {
  const btime = bootTimeMs(proc);
  const found = new Map<number, LiveProcess>();
  const missed: Resolved['missed'] = [];
  const never = untouchable(proc);
  const byPath = new Set(
    targets.map((t) => t.executable).filter((p): p is string => p !== undefined && !SYSTEM_DIRS.test(p)),
  );
  for (const t of targets) {
    if (t.pid === undefined) continue;
    if (never.has(t.pid)) {
      missed.push({
        target: describeTarget(t),
        why: 'init, the agent itself or one of its parents: left alone',
      });
      continue;
    }
    const p = readProcess(t.pid, proc, btime);
    if (!p) {
      missed.push({ target: describeTarget(t), why: 'no such process (it ended)' });
      continue;
    }
    if (t.start && p.start && Math.abs(Date.parse(t.start) - Date.parse(p.start)) > START_SLACK_MS) {
      missed.push({
        target: describeTarget(t),
        why: `pid ${t.pid} now belongs to a process started at ${p.start}, not ${t.start} (the pid was reused): left alone`,
      });
      continue;
    }
    found.set(p.pid, p);
  }
  if (byPath.size > 0) {
    for (const pid of listPids(proc)) {
      if (found.has(pid) || never.has(pid)) continue;
      const p = readProcess(pid, proc, btime);
      if (p?.exe !== undefined && byPath.has(p.exe)) found.set(pid, p);
    }
  }
  return { processes: [...found.values()], missed };
}

/** Every descendant of the given pids (children before their parents' parents: deepest last). */
export function descendants(roots: readonly number[], proc = '/proc'): number[] {
  const never = untouchable(proc);
  const children = new Map<number, number[]>();
  for (const pid of listPids(proc)) {
    const p = readProcess(pid, proc, 0);
    if (!p) continue;
    const list = children.get(p.stat.ppid) ?? [];
    list.push(pid);
    children.set(p.stat.ppid, list);
  }
  const out: number[] = [];
  const seen = new Set(roots);
  const todo = [...roots];
  while (todo.length > 0) {
    const pid = todo.shift()!;
    for (const c of children.get(pid) ?? []) {
      if (seen.has(c) || never.has(c)) continue;
      seen.add(c);
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}
