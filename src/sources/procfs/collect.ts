import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { availableParallelism, hostname, release } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashExecutable } from './hash.ts';
import { findPackageOwners } from './packages.ts';
import { collectPersistenceFiles } from './persistence-files.ts';
import {
  containerIdFromCgroup,
  PF_KTHREAD,
  parseCgroup,
  parseCmdline,
  parseNetTable,
  parsePasswd,
  parseStat,
  parseStatusUid,
} from './proc-parse.ts';
import { readBounded } from './read-bounded.ts';
import type { CollectedFile, CollectStats, HostSnapshot, ProcessInfo, SocketInfo } from './types.ts';

/** Linux reports process times in USER_HZ ticks, 100 per second on every mainstream architecture. */
const CLK_TCK = 100;

export type HashPolicy = 'none' | 'suspicious' | 'all';

export interface CollectOptions {
  /** Sampling window for CPU and connection rate; 0 takes one snapshot (CPU = lifetime average). */
  windowMs: number;
  /** Where /proc is mounted. */
  procRoot?: string;
  /** Root of the file system whose persistence files and package database are read. */
  fsRoot?: string;
  /** Which executables to hash (hashing every binary of a busy host costs more than the rest of the scan). */
  hash?: HashPolicy;
  /** Interval between samples inside the window. */
  sampleMs?: number;
  signal?: AbortSignal;
}

interface Raw {
  info: ProcessInfo;
  startTicksCpu: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readLink(path: string): { target?: string; error?: string } {
  try {
    return { target: readlinkSync(path) };
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code ?? 'EIO' };
  }
}

function listPids(procRoot: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync(procRoot)) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

function readTicks(procRoot: string, pid: number): number | undefined {
  const t = readText(`${procRoot}/${pid}/stat`);
  if (!t) return undefined;
  const s = parseStat(t);
  return s ? s.utime + s.stime : undefined;
}

function socketInodes(procRoot: string, pid: number): string[] | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`${procRoot}/${pid}/fd`);
  } catch {
    return undefined;
  }
  const out: string[] = [];
  for (const fd of fds) {
    const l = readLink(`${procRoot}/${pid}/fd/${fd}`).target;
    // Links look like "socket:[12345]".
    if (l?.startsWith('socket:[')) out.push(l.slice(8, -1));
  }
  return out;
}

function bootTimeMs(procRoot: string): number {
  const m = /^btime\s+(\d+)/m.exec(readText(`${procRoot}/stat`) ?? '');
  return m ? Number(m[1]) * 1000 : 0;
}

function readProcess(
  procRoot: string,
  pid: number,
  users: Map<number, string>,
  btime: number,
  stats: CollectStats,
): Raw | undefined {
  const dir = `${procRoot}/${pid}`;
  const statText = readText(`${dir}/stat`);
  const st = statText ? parseStat(statText) : undefined;
  if (!st) {
    stats.vanished++;
    return undefined;
  }
  const kernelThread = (st.flags & PF_KTHREAD) !== 0;
  const info: ProcessInfo = {
    pid,
    ppid: st.ppid,
    name: st.comm,
    argv: [],
    exeDeleted: false,
    kernelThread,
    threads: st.numThreads,
    rssBytes: st.rssPages * 4096,
    cpuCores: 0,
    cpuSeries: [],
    socketInodes: [],
  };
  if (btime > 0) info.startTime = new Date(btime + (st.startTicks * 1000) / CLK_TCK).toISOString();
  if (kernelThread) return { info, startTicksCpu: st.utime + st.stime };

  let partial = false;
  try {
    info.argv = parseCmdline(readFileSync(`${dir}/cmdline`));
  } catch {
    partial = true;
  }
  const exe = readLink(`${dir}/exe`);
  if (exe.target) {
    const deleted = exe.target.endsWith(' (deleted)');
    info.exe = deleted ? exe.target.slice(0, -10) : exe.target;
    info.exeDeleted = deleted;
  } else if (exe.error !== 'ENOENT') partial = true;
  const cwd = readLink(`${dir}/cwd`).target;
  if (cwd) info.cwd = cwd;
  const uid = parseStatusUid(readText(`${dir}/status`) ?? '');
  if (uid !== undefined) {
    info.uid = uid;
    const u = users.get(uid);
    if (u) info.user = u;
  }
  const cg = readText(`${dir}/cgroup`);
  if (cg) {
    const path = parseCgroup(cg);
    if (path) info.cgroup = path;
    const id = containerIdFromCgroup(cg);
    if (id) info.containerId = id;
  }
  const ns = readLink(`${dir}/ns/net`).target;
  if (ns) info.netns = ns;
  const inodes = socketInodes(procRoot, pid);
  if (inodes) info.socketInodes = inodes;
  else partial = true;
  if (partial) stats.unreadable++;
  return { info, startTicksCpu: st.utime + st.stime };
}

const NET_TABLES: [string, 'tcp' | 'udp', 4 | 6][] = [
  ['tcp', 'tcp', 4],
  ['tcp6', 'tcp', 6],
  ['udp', 'udp', 4],
  ['udp6', 'udp', 6],
];

/**
 * Reads the socket tables of each network namespace through one of its
 * processes; when that one has exited or denies access, the next one serves.
 */
function readSockets(procRoot: string, nsPids: Map<string, number[]>, tcpOnly = false): SocketInfo[] {
  const out: SocketInfo[] = [];
  for (const [ns, pids] of nsPids) {
    while (pids.length > 0) {
      const pid = pids[0]!;
      const first = readText(`${procRoot}/${pid}/net/tcp`);
      if (first === undefined) {
        pids.shift();
        continue;
      }
      for (const [file, proto, fam] of NET_TABLES) {
        if (tcpOnly && proto !== 'tcp') continue;
        const text = file === 'tcp' ? first : readText(`${procRoot}/${pid}/net/${file}`);
        if (text) for (const s of parseNetTable(text, proto, fam, ns)) out.push(s);
      }
      break;
    }
  }
  return out;
}

function isSuspiciousPlace(p: ProcessInfo): boolean {
  const exe = p.exe ?? '';
  return (
    p.exeDeleted ||
    /^\/(tmp|var\/tmp|dev\/shm|run\/user)\//.test(exe) ||
    /\/\.[^/]/.test(exe) ||
    p.packaged === false
  );
}

/**
 * Collects a snapshot of this host from /proc. Processes that exit mid-scan
 * and unreadable entries are counted in `stats`, never fatal.
 */
export async function collectHostSnapshot(opts: CollectOptions): Promise<HostSnapshot> {
  const procRoot = opts.procRoot ?? '/proc';
  const fsRoot = opts.fsRoot ?? '/';
  const hashPolicy = opts.hash ?? 'suspicious';
  const t0 = performance.now();
  const stats: CollectStats = {
    processes: 0,
    kernelThreads: 0,
    vanished: 0,
    unreadable: 0,
    sockets: 0,
    netns: 0,
    files: 0,
    collectMs: 0,
  };
  const users = parsePasswd(readText(join(fsRoot, 'etc/passwd')) ?? '');
  const btime = bootTimeMs(procRoot);
  const raws = new Map<number, Raw>();
  for (const pid of listPids(procRoot)) {
    const r = readProcess(procRoot, pid, users, btime, stats);
    if (r) raws.set(pid, r);
  }
  let collectMs = performance.now() - t0;

  // One representative process per network namespace: /proc/PID/net shows that namespace's tables.
  const nsPid = new Map<string, number[]>();
  const selfNs = readLink(`${procRoot}/self/ns/net`).target;
  for (const { info } of raws.values()) {
    if (!info.netns) continue;
    const list = nsPid.get(info.netns) ?? [];
    // Our own process is the most reliable reader of our own namespace.
    if (info.netns === selfNs && info.pid === process.pid) list.unshift(info.pid);
    else list.push(info.pid);
    nsPid.set(info.netns, list);
  }

  // Sampling window: CPU ticks and outbound connections seen across samples.
  const windowMs = Math.max(0, opts.windowMs);
  const firstSeen = new Map<string, string>(); // connection key -> socket inode
  const listening = new Set<string>();
  // Socket inode -> pid, kept current during the window: a connection that is
  // opened and closed between two samples' fd scans is otherwise unattributable.
  const inodePid = new Map<string, number>();
  const mapInodes = (refresh: boolean) => {
    for (const { info } of raws.values()) {
      if (info.kernelThread) continue;
      if (refresh) {
        const fresh = socketInodes(procRoot, info.pid);
        if (fresh) info.socketInodes = [...new Set([...info.socketInodes, ...fresh])];
      }
      for (const i of info.socketInodes) inodePid.set(i, info.pid);
    }
  };
  mapInodes(false);
  const noteSockets = (list: SocketInfo[]): boolean => {
    let unknown = false;
    for (const s of list) if (s.state === 'LISTEN') listening.add(`${s.netns}|${s.localPort}`);
    for (const s of list) {
      if (s.protocol !== 'tcp' || s.state === 'LISTEN' || s.inode === '0') continue;
      if (listening.has(`${s.netns}|${s.localPort}`)) continue; // accepted, not outbound
      const key = `${s.netns}|${s.localIp}:${s.localPort}|${s.remoteIp}:${s.remotePort}`;
      if (!firstSeen.has(key)) {
        firstSeen.set(key, s.inode);
        if (!inodePid.has(s.inode)) unknown = true;
      }
    }
    return unknown;
  };
  const series = new Map<number, { t: number; ticks: number }[]>();
  const tStart = performance.now();
  for (const [pid, r] of raws) series.set(pid, [{ t: 0, ticks: r.startTicksCpu }]);
  let sockets = readSockets(procRoot, nsPid);
  noteSockets(sockets);
  const baseline = new Set(firstSeen.keys());
  if (windowMs > 0) {
    const sampleMs = Math.max(50, Math.min(opts.sampleMs ?? 250, windowMs / 4));
    const cpuEvery = Math.max(1, Math.round(1000 / sampleMs));
    let tick = 0;
    while (performance.now() - tStart < windowMs) {
      const remaining = windowMs - (performance.now() - tStart);
      await sleep(Math.max(1, Math.min(sampleMs, remaining)), undefined, { signal: opts.signal });
      tick++;
      const c0 = performance.now();
      const t = performance.now() - tStart;
      const last = t >= windowMs - 1;
      if (tick % cpuEvery === 0 || last) {
        for (const pid of raws.keys()) {
          const ticks = readTicks(procRoot, pid);
          if (ticks !== undefined) series.get(pid)!.push({ t, ticks });
        }
      }
      if (noteSockets(readSockets(procRoot, nsPid, true))) mapInodes(true);
      collectMs += performance.now() - c0;
    }
  }
  const c1 = performance.now();
  if (windowMs > 0) sockets = readSockets(procRoot, nsPid);
  // Map socket inodes to their processes (refreshing fds: connections opened during the window).
  if (windowMs > 0) mapInodes(true);
  for (const s of sockets) {
    const pid = inodePid.get(s.inode);
    if (pid !== undefined) s.pid = pid;
  }
  const newOutbound: Record<number, number> = {};
  for (const [key, inode] of firstSeen) {
    if (baseline.has(key)) continue;
    const pid = inodePid.get(inode);
    if (pid !== undefined) newOutbound[pid] = (newOutbound[pid] ?? 0) + 1;
  }

  // CPU: per-interval core use, and the average over the window (lifetime average without a window).
  const nowMs = Date.now();
  for (const [pid, r] of raws) {
    const s = series.get(pid)!;
    const info = r.info;
    if (s.length >= 2) {
      const first = s[0]!;
      const lastS = s.at(-1)!;
      info.cpuCores =
        lastS.t > first.t ? (lastS.ticks - first.ticks) / CLK_TCK / ((lastS.t - first.t) / 1000) : 0;
      // Intervals shorter than half a second say little at 10 ms tick resolution: fold them into the next.
      let from = s[0]!;
      for (let i = 1; i < s.length; i++) {
        const dt = (s[i]!.t - from.t) / 1000;
        if (dt < 0.5 && i < s.length - 1) continue;
        if (dt >= 0.5) info.cpuSeries.push(round3((s[i]!.ticks - from.ticks) / CLK_TCK / dt));
        from = s[i]!;
      }
    } else if (info.startTime) {
      const age = (nowMs - Date.parse(info.startTime)) / 1000;
      info.cpuCores = age > 0 ? r.startTicksCpu / CLK_TCK / age : 0;
    }
    info.cpuCores = round3(info.cpuCores);
  }

  // Package ownership, hashes and miner configs.
  const persistenceFiles = collectPersistenceFiles(fsRoot);
  const exes: string[] = persistenceFiles.map((f) => f.path);
  for (const { info } of raws.values()) if (info.exe && !info.exeDeleted) exes.push(info.exe);
  const pkgs = findPackageOwners(exes, fsRoot);
  for (const f of persistenceFiles) {
    const owner = pkgs.get(f.path);
    if (owner) f.package = owner;
  }
  const files: CollectedFile[] = [];
  const configPaths = new Set<string>();
  for (const { info } of raws.values()) {
    if (info.kernelThread) continue;
    if (info.exe && !info.exeDeleted) {
      const owner = pkgs.get(info.exe);
      if (owner !== undefined) {
        info.packaged = owner !== null;
        if (owner) info.packageName = owner;
      }
    }
    if (hashPolicy === 'all' || (hashPolicy === 'suspicious' && info.exe && isSuspiciousPlace(info))) {
      const h = hashExecutable(`${procRoot}/${info.pid}/exe`);
      if (h) info.sha256 = h;
    }
    for (const p of minerConfigCandidates(info, procRoot)) configPaths.add(p);
  }
  for (const p of configPaths) {
    const f = readBounded(p, 'miner-config');
    if (f) files.push(f);
  }
  files.push(...persistenceFiles);

  const processes = [...raws.values()].map((r) => r.info).sort((a, b) => a.pid - b.pid);
  stats.processes = processes.length;
  stats.kernelThreads = processes.filter((p) => p.kernelThread).length;
  stats.sockets = sockets.length;
  stats.netns = nsPid.size;
  stats.files = files.length;
  collectMs += performance.now() - c1;
  stats.collectMs = Math.round(collectMs);
  return {
    host: { name: hostname(), os: 'linux', kernel: release(), cpus: cpuCount() },
    takenAt: new Date().toISOString(),
    windowMs,
    processes,
    sockets,
    newOutbound,
    files,
    stats,
  };
}

function cpuCount(): number {
  return Math.max(1, availableParallelism());
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * Config files a miner may be reading: `-c FILE`/`--config FILE`/`--config=FILE`,
 * and `config.json` beside the executable or in the working directory (XMRig's
 * default when started without arguments). Read through /proc/PID/root and cwd
 * so that files of processes in containers resolve in their own mount namespace.
 */
function minerConfigCandidates(p: ProcessInfo, procRoot: string): string[] {
  const out: string[] = [];
  const rootPrefix = `${procRoot}/${p.pid}/root`;
  const resolve = (f: string) =>
    f.startsWith('/') ? `${rootPrefix}${f}` : p.cwd ? `${rootPrefix}${join(p.cwd, f)}` : undefined;
  for (let i = 1; i < p.argv.length; i++) {
    const a = p.argv[i]!;
    let f: string | undefined;
    if ((a === '-c' || a === '--config') && i + 1 < p.argv.length) f = p.argv[i + 1];
    else if (a.startsWith('--config=')) f = a.slice(9);
    else if (a.startsWith('-c') && a.length > 2 && !a.startsWith('--')) f = a.slice(2);
    const r = f ? resolve(f) : undefined;
    if (r) out.push(r);
  }
  if (p.exe && (p.exeDeleted || p.packaged !== true))
    out.push(`${rootPrefix}${join(dirname(p.exe), 'config.json')}`);
  if (p.cwd && p.packaged !== true && p.cwd !== '/') out.push(`${rootPrefix}${join(p.cwd, 'config.json')}`);
  return out;
}
