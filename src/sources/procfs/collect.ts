import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { availableParallelism, hostname, release } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  CollectedFile,
  CollectStats,
  HostSnapshot,
  ProcessInfo,
  SocketInfo,
} from '../../core/host-snapshot.ts';
import { hashExecutable } from './hash.ts';
import { findPackageOwners } from './packages.ts';
import { collectPersistenceFiles } from './persistence-files.ts';
import {
  containerIdFromCgroup,
  PF_KTHREAD,
  parseCgroup,
  parseCmdline,
  parsePasswd,
  parseStat,
  parseStatTicks,
  parseStatusUid,
} from './proc-parse.ts';
import { readInRoot } from './read-bounded.ts';
import { type CachedProcess, ScanCache } from './scan-cache.ts';
import { readSockets } from './socket-tables.ts';

/** Linux reports process times in USER_HZ ticks, 100 per second on every mainstream architecture. */
const CLK_TCK = 100;

export type HashPolicy = 'none' | 'suspicious' | 'all';

export interface CollectOptions {
  /** Sampling window for CPU and connection rate; 0 takes one snapshot (CPU = lifetime average). */
  windowMs: number;
  /**
   * Read this machine's processes and sockets (default true). False reviews
   * the files under `fsRoot` only (a mounted disk image): no process of the
   * machine running the scan is mixed into it, and the host is named from
   * the image's etc/hostname.
   */
  live?: boolean;
  /** Where /proc is mounted. */
  procRoot?: string;
  /** Root of the file system whose persistence files and package database are read. */
  fsRoot?: string;
  /** Which executables to hash (hashing every binary of a busy host costs more than the rest of the scan). */
  hash?: HashPolicy;
  /** Interval between samples inside the window. */
  sampleMs?: number;
  signal?: AbortSignal;
  /**
   * State kept between collections by a long-running scanner (the agent):
   * what cannot change in a live process is not read again (see
   * scan-cache.ts). Without one, everything is read.
   */
  cache?: ScanCache;
}

interface Raw {
  info: ProcessInfo;
  startTicksCpu: number;
  /** The cache entry, when the process is no kernel thread. */
  entry?: CachedProcess;
  /** When its fds were last walked (the walk clock of collectHostSnapshot; -1: taken from the cache). */
  walkedAt: number;
}

/** The host name a disk image gives itself (etc/hostname), else the root's own folder name. */
function imageHostName(root: string): string {
  const name = (readInRoot(root, 'etc/hostname', 'hostname', 4096)?.text ?? '').split('\n')[0]?.trim();
  return name || basename(resolve(root)) || 'image';
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A /proc file read as bytes into one reused buffer: readFileSync gives
 * /proc files (size 0) a fresh 64 KiB buffer per call. The view is valid
 * until the next call.
 */
let scratch = Buffer.allocUnsafe(16 * 1024);
/** The reused buffer grows to this at most; a longer command line gets a buffer of its own. */
const MAX_SCRATCH = 256 * 1024;
function readProcBytes(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    let buf = scratch;
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
        if (buf.length <= MAX_SCRATCH) scratch = buf;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) return buf.subarray(0, n);
      n += got;
    }
  } finally {
    closeSync(fd);
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
  return t ? parseStatTicks(t) : undefined;
}

function socketInodes(procRoot: string, pid: number, cache: ScanCache): string[] | undefined {
  cache.counts.fdWalks++;
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
  cache: ScanCache,
  now: number,
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
  if (kernelThread) {
    if (btime > 0) info.startTime = new Date(btime + (st.startTicks * 1000) / CLK_TCK).toISOString();
    return { info, startTicksCpu: st.utime + st.stime, walkedAt: -1 };
  }

  // Read on every scan: it tells another program (exec) and a binary deleted since.
  let partial = false;
  const exe = readLink(`${dir}/exe`);
  if (exe.target) {
    const deleted = exe.target.endsWith(' (deleted)');
    info.exe = deleted ? exe.target.slice(0, -10) : exe.target;
    info.exeDeleted = deleted;
  } else if (exe.error !== 'ENOENT') partial = true;

  // The rest holds until the process runs another program (or its pid is reused): see scan-cache.ts.
  const identity = `${st.startTicks}\0${st.comm}\0${exe.target ?? exe.error}\0${st.execMark}`;
  let entry = cache.processes.get(pid);
  let walkedAt = -1;
  if (entry && entry.identity === identity && now < entry.refreshAt) {
    cache.counts.processesReused++;
  } else {
    walkedAt = 0;
    cache.counts.processesRead++;
    let argv: string[] = [];
    try {
      argv = parseCmdline(readProcBytes(`${dir}/cmdline`));
    } catch {
      partial = true;
    }
    const uid = parseStatusUid(readText(`${dir}/status`) ?? '');
    const cg = readText(`${dir}/cgroup`);
    const inodes = socketInodes(procRoot, pid, cache);
    if (!inodes) partial = true;
    entry = {
      identity,
      argv,
      cwd: readLink(`${dir}/cwd`).target,
      netns: readLink(`${dir}/ns/net`).target,
      uid,
      cgroup: cg ? parseCgroup(cg) : undefined,
      containerId: cg ? containerIdFromCgroup(cg) : undefined,
      socketInodes: inodes,
      startTime: '',
      startTimeOf: 0,
      // Read again next scan: an entry read only in part (as it would be without
      // a cache), and a process seen for the first time (a program often
      // changes its argv, uid or sockets just after it starts; and a socket it
      // opened between its fd walk and the table read is found then).
      refreshAt: partial || entry?.identity !== identity ? 0 : cache.refreshAt(pid, now),
      seen: cache.scan,
    };
    cache.processes.set(pid, entry);
  }
  entry.seen = cache.scan;
  if (btime > 0) {
    // Formatted once per process (and again should the boot time move, as it does when the clock is set).
    if (entry.startTimeOf !== btime) {
      entry.startTimeOf = btime;
      entry.startTime = new Date(btime + (st.startTicks * 1000) / CLK_TCK).toISOString();
    }
    info.startTime = entry.startTime;
  }
  info.argv = entry.argv;
  if (entry.cwd) info.cwd = entry.cwd;
  if (entry.netns) info.netns = entry.netns;
  if (entry.uid !== undefined) {
    info.uid = entry.uid;
    const u = users.get(entry.uid);
    if (u) info.user = u;
  }
  if (entry.cgroup) info.cgroup = entry.cgroup;
  if (entry.containerId) info.containerId = entry.containerId;
  // Shared with the cache: lists are replaced, never changed in place.
  if (entry.socketInodes) info.socketInodes = entry.socketInodes;
  if (partial) stats.unreadable++;
  return { info, startTicksCpu: st.utime + st.stime, entry, walkedAt };
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
  const live = opts.live !== false;
  const cache = opts.cache ?? new ScanCache();
  cache.begin();
  const users = cache.users(
    readInRoot(fsRoot, 'etc/passwd', 'passwd', 4 * 1024 * 1024, cache)?.text ?? '',
    parsePasswd,
  );
  const btime = bootTimeMs(procRoot);
  const raws = new Map<number, Raw>();
  const now = performance.now();
  for (const pid of live ? listPids(procRoot) : []) {
    const r = readProcess(procRoot, pid, users, btime, stats, cache, now);
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
  const windowMs = live ? Math.max(0, opts.windowMs) : 0;
  const firstSeen = new Map<string, string>(); // connection key -> socket inode
  const listening = new Set<string>();
  // Socket inode -> pid, kept current during the window: a connection that is
  // opened and closed between two samples' fd scans is otherwise unattributable.
  // Where several processes hold a socket, the last in /proc order names it.
  const inodePid = new Map<string, number>();
  const mapInodes = () => {
    for (const { info } of raws.values()) for (const i of info.socketInodes) inodePid.set(i, info.pid);
  };
  mapInodes();
  /**
   * Who holds sockets the tables list and no known process does: walks
   * /proc/PID/fd of processes whose descriptors were not read since the
   * table was (`listedAt` on the walk clock) until all are found: our own
   * process first (it opens connections during its own scans), then those
   * holding sockets in the tables already (the ones that connect), then the
   * rest; each group last to first in /proc order, so that a socket several
   * processes of a group hold is named after the last, as a full pass
   * would. With `skipWalkedThisScan`, processes read in full this scan (just
   * before the table) count as searched. Sockets no process holds are
   * remembered (`unowned`, then across scans in the cache) and not searched
   * for again while they stay: kernel sockets, or those of processes gone.
   */
  let sockets: SocketInfo[] = [];
  let clock = 0;
  const unowned = new Set<string>();
  let order: Raw[] | undefined;
  const discover = (wanted: Set<string>, listedAt: number, skipWalkedThisScan: boolean) => {
    if (wanted.size === 0) return;
    if (!order) {
      const connected = new Set<number>();
      for (const s of sockets) {
        const pid = inodePid.get(s.inode);
        if (pid !== undefined) connected.add(pid);
      }
      const self: Raw[] = [];
      const first: Raw[] = [];
      const rest: Raw[] = [];
      for (const r of [...raws.values()].reverse()) {
        if (r.info.pid === process.pid) self.push(r);
        else (connected.has(r.info.pid) ? first : rest).push(r);
      }
      order = [...self, ...first, ...rest];
    }
    for (const r of order) {
      if (wanted.size === 0) break;
      if (!r.entry || r.walkedAt > listedAt || (skipWalkedThisScan && r.walkedAt >= 0)) continue;
      const fresh = socketInodes(procRoot, r.info.pid, cache);
      r.walkedAt = ++clock;
      if (!fresh) continue;
      r.entry.socketInodes = fresh;
      r.info.socketInodes = [...new Set([...r.info.socketInodes, ...fresh])];
      for (const i of fresh) wanted.delete(i);
    }
    for (const i of wanted) unowned.add(i);
    mapInodes();
  };
  /**
   * Connections (TCP, not listening) no known process holds. Only they are
   * looked for: detectors judge processes by their connections, and
   * short-lived UDP sockets (a DNS lookup each) would otherwise send every
   * scan through every process's descriptors. Listening and UDP sockets are
   * still named after the processes known to hold them.
   */
  const unknownInodes = (list: readonly SocketInfo[]): Set<string> => {
    const out = new Set<string>();
    for (const s of list)
      if (
        s.protocol === 'tcp' &&
        s.state !== 'LISTEN' &&
        s.inode !== '0' &&
        !inodePid.has(s.inode) &&
        !cache.unattributed.has(s.inode)
      )
        out.add(s.inode);
    return out;
  };
  /** Notes connections not seen before; returns the inodes of those no known process holds. */
  const noteSockets = (list: readonly SocketInfo[]): Set<string> => {
    const unknown = new Set<string>();
    for (const s of list) if (s.state === 'LISTEN') listening.add(`${s.netns}|${s.localPort}`);
    for (const s of list) {
      if (s.protocol !== 'tcp' || s.state === 'LISTEN' || s.inode === '0') continue;
      if (listening.has(`${s.netns}|${s.localPort}`)) continue; // accepted, not outbound
      const key = `${s.netns}|${s.localIp}:${s.localPort}|${s.remoteIp}:${s.remotePort}`;
      if (!firstSeen.has(key)) {
        firstSeen.set(key, s.inode);
        if (!inodePid.has(s.inode) && !cache.unattributed.has(s.inode)) unknown.add(s.inode);
      }
    }
    return unknown;
  };
  const series = new Map<number, { t: number; ticks: number }[]>();
  const tStart = performance.now();
  for (const [pid, r] of raws) series.set(pid, [{ t: 0, ticks: r.startTicksCpu }]);
  let listedAt = ++clock;
  sockets = live ? readSockets(procRoot, nsPid, cache) : [];
  // Sockets opened since the last scan by processes taken from the cache (those read in full just now are current).
  discover(unknownInodes(sockets), listedAt, true);
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
      listedAt = ++clock;
      discover(noteSockets(readSockets(procRoot, nsPid, cache, 'window')), listedAt, false);
      collectMs += performance.now() - c0;
    }
  }
  const c1 = performance.now();
  if (windowMs > 0) {
    listedAt = ++clock;
    sockets = readSockets(procRoot, nsPid, cache);
    // Connections opened during the window by processes already walked (and
    // sockets not found at the start, which a process read just before the
    // table may have opened).
    discover(unknownInodes(sockets), listedAt, false);
  }
  const stillUnowned: string[] = [];
  for (const s of sockets) {
    const pid = inodePid.get(s.inode);
    if (pid !== undefined) s.pid = pid;
    else if (unowned.has(s.inode) || cache.unattributed.has(s.inode)) stillUnowned.push(s.inode);
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
  const persistenceFiles = collectPersistenceFiles(fsRoot, cache);
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
    // The process's own root: links in a container resolve inside it, not on this host.
    const m = /^(.*?\/\d+\/root)(\/.*)$/.exec(p);
    const f = m ? readInRoot(m[1]!, m[2]!, 'miner-config', undefined, cache) : undefined;
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
  cache.end(stillUnowned);
  return {
    host: live
      ? { name: hostname(), os: 'linux', kernel: release(), cpus: cpuCount() }
      : { name: imageHostName(fsRoot), os: 'linux', cpus: 0 },
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
