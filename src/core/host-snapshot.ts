import { z } from 'zod';

/**
 * What the host collector gathers: plain data that detectors read (they never
 * touch /proc themselves). The agent sends snapshots to the server, which
 * validates them with `HostSnapshotSchema`; detectors take the TypeScript
 * types. Schemas are built on first use (see event.ts).
 */

const count = () => z.number().int().nonnegative();
const isoTime = () => z.iso.datetime();

export const CpuSampleSchema = z.lazy(() =>
  z.strictObject({
    /** Milliseconds since the first sample. */
    t: z.number().nonnegative(),
    /** utime + stime in clock ticks at that moment. */
    ticks: z.number().nonnegative(),
  }),
);
export type CpuSample = z.infer<typeof CpuSampleSchema>;

/**
 * Per-process behaviour over a sampling window, sampled at about 1 Hz (see
 * `src/sources/procfs/sampler.ts` and docs/behaviour.md): one column per
 * counter, one entry per sample. Counters are cumulative as /proc gives them
 * (deltas are taken by the reader); `threads`, `rssPages` and `stopped` are
 * levels. Counters summed over threads may step back when a thread exits.
 */
export const BehaviourSeriesSchema = z.lazy(() => {
  const col = () => z.array(z.number().nonnegative()).max(100_000);
  return z.strictObject({
    /** Milliseconds since the first sample of the series. */
    t: col(),
    utime: col(),
    stime: col(),
    minflt: col(),
    majflt: col(),
    /** Voluntary and involuntary context switches, summed over the threads read. */
    vcsw: col(),
    nvcsw: col(),
    /** schedstat: nanoseconds on the CPU and waiting on a run queue, summed over the threads read. */
    runNs: col(),
    waitNs: col(),
    /** /proc/PID/io: bytes through read/write calls, and bytes from/to storage. */
    rchar: col(),
    wchar: col(),
    readBytes: col(),
    writeBytes: col(),
    threads: col(),
    rssPages: col(),
    /** 1 when the process was stopped (state T, e.g. SIGSTOP duty cycles) at that sample. */
    stopped: col(),
    /** Its CPU cgroup's cpu.stat `nr_periods` / `nr_throttled` (zeros when it has no quota). */
    cgPeriods: col(),
    cgThrottled: col(),
    /** Nice value at the last sample. */
    nice: z.number().int().min(-20).max(19),
    /** Established outbound TCP connections at the end of the window, when known. */
    outbound: count().optional(),
    /** SHA-256 of the executable the process ran, when the sampler hashed it (the agent's per-binary baseline). */
    exeSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  });
});
export type BehaviourSeries = z.infer<typeof BehaviourSeriesSchema>;

export const ProcessInfoSchema = z.lazy(() =>
  z.strictObject({
    pid: count(),
    ppid: count(),
    /** `comm`: the 15-character name the kernel shows. */
    name: z.string(),
    argv: z.array(z.string()),
    /** Resolved executable path; undefined for kernel threads and unreadable entries. */
    exe: z.string().optional(),
    exeDeleted: z.boolean(),
    cwd: z.string().optional(),
    uid: count().optional(),
    user: z.string().optional(),
    /** ISO-8601 UTC. */
    startTime: isoTime().optional(),
    /** True for kernel threads (PF_KTHREAD). */
    kernelThread: z.boolean(),
    threads: count(),
    rssBytes: count(),
    /** Cores used on average over the window (1.0 = one core fully busy). */
    cpuCores: z.number().nonnegative(),
    /** Cores used in each sampling interval over the window. */
    cpuSeries: z.array(z.number().nonnegative()),
    cgroup: z.string().optional(),
    containerId: z.string().optional(),
    /** Network namespace inode (`net:[N]`). */
    netns: z.string().optional(),
    sha256: z.string().optional(),
    /** `true`/`false` when the package database answered, undefined when it could not tell. */
    packaged: z.boolean().optional(),
    packageName: z.string().optional(),
    /** Inodes of the sockets this process holds. */
    socketInodes: z.array(z.string()),
    /** Behaviour sampled through the window (scans with a window of a few samples or more). */
    behaviour: BehaviourSeriesSchema.optional(),
  }),
);
export type ProcessInfo = z.infer<typeof ProcessInfoSchema>;

export const SOCKET_STATES = [
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
  'UNKNOWN',
] as const;
export type SocketState = (typeof SOCKET_STATES)[number];

const port = () => z.number().int().min(0).max(65535);

export const SocketInfoSchema = z.lazy(() =>
  z.strictObject({
    protocol: z.enum(['tcp', 'udp']),
    family: z.union([z.literal(4), z.literal(6)]),
    localIp: z.string(),
    localPort: port(),
    remoteIp: z.string(),
    remotePort: port(),
    state: z.enum(SOCKET_STATES),
    inode: z.string(),
    uid: count(),
    netns: z.string(),
    /** Owning process, when a process holding the inode was found. */
    pid: count().optional(),
  }),
);
export type SocketInfo = z.infer<typeof SocketInfoSchema>;

/** A file the collector read because a detector needs its text (configs, persistence). */
export const CollectedFileSchema = z.lazy(() =>
  z.strictObject({
    path: z.string(),
    /** Why it was read: `miner-config`, `cron`, `systemd`, `rc-local`, `ld-preload`, `shell-rc`, `authorized-keys`… */
    kind: z.string(),
    text: z.string(),
    /** True when only the first part of a large file was read. */
    truncated: z.boolean(),
    mtime: isoTime().optional(),
    /** The package that installed this file, when dpkg lists it. */
    package: z.string().optional(),
  }),
);
export type CollectedFile = z.infer<typeof CollectedFileSchema>;

export const CollectStatsSchema = z.lazy(() =>
  z.strictObject({
    processes: count(),
    kernelThreads: count(),
    /** Processes that exited mid-scan. */
    vanished: count(),
    /** Entries we could not read (permissions, races); counted, never fatal. */
    unreadable: count(),
    sockets: count(),
    netns: count(),
    files: count(),
    /** Time spent collecting, sampling window excluded. */
    collectMs: z.number().nonnegative(),
  }),
);
export type CollectStats = z.infer<typeof CollectStatsSchema>;

export const HostSnapshotSchema = z.lazy(() =>
  z.strictObject({
    host: z.strictObject({
      name: z.string(),
      os: z.string(),
      kernel: z.string().optional(),
      cpus: count(),
    }),
    takenAt: isoTime(),
    windowMs: count(),
    processes: z.array(ProcessInfoSchema),
    /** Sockets of every network namespace seen (last sample). */
    sockets: z.array(SocketInfoSchema),
    /**
     * Outbound TCP connections first seen during the window, per pid
     * (connect attempts observed across samples), for connection-rate checks.
     * Keys are pids as text, as JSON writes them.
     */
    newOutbound: z.record(z.string().regex(/^\d+$/), count()),
    files: z.array(CollectedFileSchema),
    stats: CollectStatsSchema,
  }),
);
export type HostSnapshot = z.infer<typeof HostSnapshotSchema>;
