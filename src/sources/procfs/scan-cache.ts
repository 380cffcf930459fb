import type { CollectedFile, SocketInfo } from '../../core/host-snapshot.ts';

/**
 * What a long-running scanner (the agent) keeps between host collections so
 * that a scan of a quiet host costs little more than reading each process's
 * stat line. One-shot scans get a fresh cache each time and read everything.
 *
 * Kept, and how each is known to be still true:
 *  - per process (pid): command line, working directory, uid, cgroup,
 *    network namespace and the socket inodes of its descriptors, valid while
 *    its identity holds: start time (pid reuse), name, executable link
 *    (including " (deleted)") and the exec marks of /proc/PID/stat (code,
 *    stack and argv addresses, all set by exec). Only stat (CPU, memory) and
 *    the executable link are read on every scan. A process seen for the
 *    first time is read in full again at the next scan (programs settle
 *    their argv, uid and directory just after they start), and every entry
 *    again after `refreshMs` (staggered by pid) whatever its identity says:
 *    a process may rewrite its argv in place, chdir, setuid or setns
 *    without an exec.
 *  - per network namespace: the parsed TCP tables, valid while the
 *    namespace's TCP counters (opens, fails, resets, established, sockets in
 *    use: /proc/PID/net/snmp and sockstat) are unchanged, and for at most
 *    `tableMaxAgeMs`; inside a sampling window, which looks for connections
 *    started, while ActiveOpens is unchanged. Reading /proc/net/tcp walks
 *    the kernel's whole connection hash (about 5 ms per table on a 24 GiB
 *    machine, however few connections there are); the counters cost
 *    microseconds.
 *  - which process holds which socket: the fds of processes taken from the
 *    cache are walked only when a connection (TCP, not listening) shows up
 *    that no known process holds, and only until it is found; connections
 *    no process holds (kernel sockets, processes gone) are not searched
 *    for again while they stay in the tables.
 *  - per file (persistence, passwd, miner configs): the text, valid while
 *    device, inode, size, mtime and ctime are unchanged; files changed in
 *    the last `racyMs` are not kept (a second write within the file system's
 *    timestamp granularity would not show).
 *
 * Every table holds only what the last scan saw: entries of processes,
 * namespaces, sockets and files that are gone are dropped after each scan.
 */
export interface ScanCacheOptions {
  /** Read each process entry in full again after one to two times this (spread by pid). Default 60 s. */
  refreshMs?: number;
  /** Read the TCP tables at least this often even when the counters are unchanged. Default 60 s. */
  tableMaxAgeMs?: number;
  /** Files changed more recently than this are read again next time. Default 2 s. */
  racyMs?: number;
}

export interface CachedProcess {
  identity: string;
  argv: string[];
  cwd: string | undefined;
  netns: string | undefined;
  uid: number | undefined;
  cgroup: string | undefined;
  containerId: string | undefined;
  /** Socket inodes held at the last walk of /proc/PID/fd (undefined: could not be read); replaced, never changed in place. */
  socketInodes: string[] | undefined;
  /** The start time as ISO text, and the boot time it was computed from. */
  startTime: string;
  startTimeOf: number;
  /** performance.now() after which the entry is read again in full. */
  refreshAt: number;
  /** Scan that last saw the process. */
  seen: number;
}

export interface CachedTable {
  token: string;
  /** ActiveOpens when the tables were read. */
  opens: string;
  at: number;
  tcp: SocketInfo[];
  seen: number;
}

export interface CachedFile {
  identity: string;
  max: number;
  file: CollectedFile;
  seen: number;
}

export interface ScanCacheStats {
  scans: number;
  /** Process entries read in full / taken from the cache, last scan. */
  processesRead: number;
  processesReused: number;
  /** /proc/PID/fd walks, last scan. */
  fdWalks: number;
  /** TCP table pairs (tcp + tcp6) read / taken from the cache, last scan. */
  tablesRead: number;
  tablesReused: number;
  /** Files read / taken from the cache, last scan. */
  filesRead: number;
  filesReused: number;
  /** Entries held now. */
  processes: number;
  tables: number;
  files: number;
  unattributed: number;
}

const DEFAULTS = { refreshMs: 60_000, tableMaxAgeMs: 60_000, racyMs: 2_000 };

export class ScanCache {
  readonly refreshMs: number;
  readonly tableMaxAgeMs: number;
  readonly racyMs: number;
  readonly processes = new Map<number, CachedProcess>();
  readonly tables = new Map<string, CachedTable>();
  readonly files = new Map<string, CachedFile>();
  /** Socket inodes that no process held when every process was searched. */
  unattributed = new Set<string>();
  scan = 0;
  counts = {
    processesRead: 0,
    processesReused: 0,
    fdWalks: 0,
    tablesRead: 0,
    tablesReused: 0,
    filesRead: 0,
    filesReused: 0,
  };
  #users: { text: string; map: Map<number, string> } | undefined;

  constructor(o: ScanCacheOptions = {}) {
    this.refreshMs = o.refreshMs ?? DEFAULTS.refreshMs;
    this.tableMaxAgeMs = o.tableMaxAgeMs ?? DEFAULTS.tableMaxAgeMs;
    this.racyMs = o.racyMs ?? DEFAULTS.racyMs;
  }

  /** Starts a scan: returns its number. */
  begin(): number {
    this.scan++;
    for (const k of Object.keys(this.counts) as (keyof ScanCache['counts'])[]) this.counts[k] = 0;
    return this.scan;
  }

  /** Ends a scan: drops what it did not see. */
  end(socketsWithoutOwner: Iterable<string>): void {
    const n = this.scan;
    for (const [pid, p] of this.processes) if (p.seen !== n) this.processes.delete(pid);
    for (const [ns, t] of this.tables) if (t.seen !== n) this.tables.delete(ns);
    for (const [path, f] of this.files) if (f.seen !== n) this.files.delete(path);
    this.unattributed = new Set(socketsWithoutOwner);
  }

  /** When an entry read now is due again: `refreshMs` to twice that, spread by pid so that refreshes do not come all at once. */
  refreshAt(pid: number, now: number): number {
    return now + this.refreshMs * (1 + ((pid * 2654435761) >>> 0) / 2 ** 32);
  }

  /** uid → name, parsed again only when the passwd text changed. */
  users(text: string, parse: (t: string) => Map<number, string>): Map<number, string> {
    if (this.#users?.text !== text) this.#users = { text, map: parse(text) };
    return this.#users.map;
  }

  stats(): ScanCacheStats {
    return {
      scans: this.scan,
      ...this.counts,
      processes: this.processes.size,
      tables: this.tables.size,
      files: this.files.size,
      unattributed: this.unattributed.size,
    };
  }
}
