import type { HostSnapshot, ProcessInfo } from '../../core/host-snapshot.ts';

/** Builds snapshots for analytics tests: plain values, no /proc. */
export function processInfo(p: Partial<ProcessInfo> & { pid: number; name: string }): ProcessInfo {
  return {
    ppid: 1,
    argv: [p.exe ?? p.name],
    exeDeleted: false,
    kernelThread: false,
    threads: 1,
    rssBytes: 10_000_000,
    cpuCores: 0,
    cpuSeries: [0, 0, 0, 0, 0],
    socketInodes: [],
    packaged: true,
    ...p,
  };
}

export function snapshot(parts: Partial<HostSnapshot> = {}): HostSnapshot {
  return {
    host: { name: 'web-01', os: 'linux', cpus: 4 },
    takenAt: '2026-11-29T10:00:00.000Z',
    windowMs: 10_000,
    processes: [],
    sockets: [],
    newOutbound: {},
    files: [],
    stats: {
      processes: 0,
      kernelThreads: 0,
      vanished: 0,
      unreadable: 0,
      sockets: 0,
      netns: 1,
      files: 0,
      collectMs: 0,
    },
    ...parts,
  };
}
