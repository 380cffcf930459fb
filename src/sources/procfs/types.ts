/** What the host collector gathers: plain data that detectors read (they never touch /proc themselves). */

export interface CpuSample {
  /** Milliseconds since the first sample. */
  t: number;
  /** utime + stime in clock ticks at that moment. */
  ticks: number;
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** `comm`: the 15-character name the kernel shows. */
  name: string;
  argv: string[];
  /** Resolved executable path; undefined for kernel threads and unreadable entries. */
  exe?: string;
  exeDeleted: boolean;
  cwd?: string;
  uid?: number;
  user?: string;
  /** ISO-8601 UTC. */
  startTime?: string;
  /** True for kernel threads (PF_KTHREAD). */
  kernelThread: boolean;
  threads: number;
  rssBytes: number;
  /** Cores used on average over the window (1.0 = one core fully busy). */
  cpuCores: number;
  /** Cores used in each sampling interval over the window. */
  cpuSeries: number[];
  cgroup?: string;
  containerId?: string;
  /** Network namespace inode (`net:[N]`). */
  netns?: string;
  sha256?: string;
  /** `true`/`false` when the package database answered, undefined when it could not tell. */
  packaged?: boolean;
  packageName?: string;
  /** Inodes of the sockets this process holds. */
  socketInodes: string[];
}

export type SocketState =
  | 'ESTABLISHED'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'TIME_WAIT'
  | 'CLOSE'
  | 'CLOSE_WAIT'
  | 'LAST_ACK'
  | 'LISTEN'
  | 'CLOSING'
  | 'NEW_SYN_RECV'
  | 'UNKNOWN';

export interface SocketInfo {
  protocol: 'tcp' | 'udp';
  family: 4 | 6;
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  state: SocketState;
  inode: string;
  uid: number;
  netns: string;
  /** Owning process, when a process holding the inode was found. */
  pid?: number;
}

/** A file the collector read because a detector needs its text (configs, persistence). */
export interface CollectedFile {
  path: string;
  /** Why it was read: `miner-config`, `cron`, `systemd`, `rc-local`, `ld-preload`, `shell-rc`, `authorized-keys`. */
  kind: string;
  text: string;
  /** True when only the first part of a large file was read. */
  truncated: boolean;
  mtime?: string;
  /** The package that installed this file, when dpkg lists it. */
  package?: string;
}

export interface HostSnapshot {
  host: { name: string; os: string; kernel?: string; cpus: number };
  takenAt: string;
  windowMs: number;
  processes: ProcessInfo[];
  /** Sockets of every network namespace seen (last sample). */
  sockets: SocketInfo[];
  /**
   * Outbound TCP connections first seen during the window, per pid
   * (connect attempts observed across samples), for connection-rate checks.
   */
  newOutbound: Record<number, number>;
  files: CollectedFile[];
  stats: CollectStats;
}

export interface CollectStats {
  processes: number;
  kernelThreads: number;
  /** Processes that exited mid-scan. */
  vanished: number;
  /** Entries we could not read (permissions, races); counted, never fatal. */
  unreadable: number;
  sockets: number;
  netns: number;
  files: number;
  /** Time spent collecting, sampling window excluded. */
  collectMs: number;
}
