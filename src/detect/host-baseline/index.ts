import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import { canonicalHostName } from '../../core/host-identity.ts';
import type { HostSnapshot, ProcessInfo, SocketInfo } from '../../core/host-snapshot.ts';
import { ecsProcess } from '../../core/process-fields.ts';
import type { Severity } from '../../core/severity.ts';
import type { RuleDeclaration, StreamDetector } from '../../core/stages.ts';
import { cpuStats } from '../host/cpu/index.ts';
import { PERSISTENCE_TECHNIQUE } from '../host/persistence/index.ts';
import { LruMap } from '../network/lru-map.ts';
import {
  CONNECTION_BURST,
  HOST_BASELINE_RULES,
  MEMORY_GROWTH,
  NEW_EXECUTABLE,
  NEW_PERSISTENCE,
  SUSTAINED_CPU,
} from './rules.ts';

export { HOST_BASELINE_RULES } from './rules.ts';

export interface HostBaselineOptions {
  /** Snapshots whose RSS make a process's own memory baseline (their median). */
  memorySamples: number;
  /** Memory above this multiple of the baseline is growth (DESIGN.md §1: 150 %). */
  memoryRatio: number;
  /** Growth smaller than this is noise, whatever the ratio (a 2 MB helper that reaches 3 MB). */
  memoryMinGrowthBytes: number;
  /** More than this many new outbound connections within a minute of snapshot time is a burst. */
  connectionsPerMinute: number;
  /** How far back the CPU duty cycle is judged. */
  cpuWindowMs: number;
  /** The CPU judgement needs at least this span of samples… */
  cpuMinSpanMs: number;
  /** …and this many of them. */
  cpuMinSamples: number;
  /** Processes followed at once (least recently seen go first past it). */
  maxProcesses: number;
  /** Executables and persistence lines remembered as already seen. */
  maxKnownExecutables: number;
  maxKnownPersistence: number;
  /** Connection keys remembered per process between snapshots. */
  maxConnectionsPerProcess: number;
}

export const DEFAULT_BASELINE_OPTIONS: HostBaselineOptions = {
  memorySamples: 5,
  memoryRatio: 1.5,
  memoryMinGrowthBytes: 32 * 1024 * 1024,
  connectionsPerMinute: 50,
  cpuWindowMs: 5 * 60_000,
  cpuMinSpanMs: 3 * 60_000,
  cpuMinSamples: 6,
  maxProcesses: 8192,
  maxKnownExecutables: 20_000,
  maxKnownPersistence: 50_000,
  maxConnectionsPerProcess: 4096,
};

/** What one process's state holds between snapshots. */
interface ProcessState {
  memory: number[];
  baseline: number | undefined;
  cpu: { t: number; cores: number }[];
  connections: { t: number; n: number; destinations: string[] }[];
  lastConnections: Set<string>;
  /** Severity last reported per rule while its condition holds: one finding per rise, not one per snapshot. */
  reported: Map<string, Severity>;
}

const FILE_KINDS_NOT_PERSISTENCE = new Set(['miner-config']);
const MINUTE = 60_000;
/** Samples kept per process for the CPU window whatever the scan interval (a 1 s interval over 5 min is 300). */
const MAX_CPU_SAMPLES = 720;
/** Destinations listed in a burst's evidence. */
const MAX_DESTINATIONS = 20;

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** What a process rule fires on: the program, so a restarted miner keeps its fingerprint. */
function programSubject(p: ProcessInfo): string {
  return p.exe ?? `name:${p.name}`;
}

/** Unpackaged, deleted or temporary-place binaries: where dropped miners live. */
function looksDropped(p: ProcessInfo): boolean {
  const exe = p.exe ?? '';
  return (
    p.exeDeleted ||
    p.packaged === false ||
    /^\/(tmp|var\/tmp|dev\/shm|run\/user)\//.test(exe) ||
    /\/\.[^/]/.test(exe)
  );
}

/** Outbound TCP connections per pid in one snapshot (accepted ones, to a listening port of ours, are left out). */
function outboundByPid(sockets: readonly SocketInfo[]): Map<number, Set<string>> {
  const listening = new Set<string>();
  for (const s of sockets) if (s.state === 'LISTEN') listening.add(`${s.netns}|${s.localPort}`);
  const out = new Map<number, Set<string>>();
  for (const s of sockets) {
    if (s.protocol !== 'tcp' || s.state === 'LISTEN' || s.pid === undefined) continue;
    if (s.state !== 'ESTABLISHED' && s.state !== 'SYN_SENT') continue;
    if (listening.has(`${s.netns}|${s.localPort}`)) continue;
    const set = out.get(s.pid) ?? new Set<string>();
    set.add(`${s.localIp}:${s.localPort}|${s.remoteIp}:${s.remotePort}`);
    out.set(s.pid, set);
  }
  return out;
}

/**
 * The agent's baselines: state kept between snapshots of one host, per
 * process (keyed by pid and start time, so a recycled pid starts afresh).
 * Pure: time is the snapshot's `takenAt`, nothing is read from /proc or
 * files; every table is bounded and its evictions are counted.
 *
 * The first snapshot is the baseline for executables and persistence: what
 * was there when the agent started is not "new".
 */
export class HostBaselineDetector implements StreamDetector<HostSnapshot> {
  readonly id = 'host-baseline';
  readonly description =
    'Baselines kept by the agent between snapshots: memory growth, connection bursts, CPU held for minutes, new executables and persistence entries';
  readonly rules: readonly RuleDeclaration[] = HOST_BASELINE_RULES;
  readonly #o: HostBaselineOptions;
  readonly #processes: LruMap<string, ProcessState>;
  readonly #executables: LruMap<string, true>;
  readonly #persistence: LruMap<string, true>;
  /** Text of each persistence file at the last snapshot: an unchanged file has no line to look at again. */
  readonly #fileTexts = new Map<string, string>();
  #primed = false;
  #snapshots = 0;
  #truncatedConnections = 0;

  constructor(options: Partial<HostBaselineOptions> = {}) {
    this.#o = { ...DEFAULT_BASELINE_OPTIONS, ...options };
    this.#processes = new LruMap(this.#o.maxProcesses);
    this.#executables = new LruMap(this.#o.maxKnownExecutables);
    this.#persistence = new LruMap(this.#o.maxKnownPersistence);
  }

  observe(snapshot: HostSnapshot): Finding[] {
    this.#snapshots++;
    const t = Date.parse(snapshot.takenAt);
    const host = canonicalHostName(snapshot.host.name);
    const out: Finding[] = [];
    const outbound = outboundByPid(snapshot.sockets);
    const seen = new Set<string>();
    for (const p of snapshot.processes) {
      if (p.kernelThread) continue;
      const key = `${p.pid}:${p.startTime ?? ''}`;
      seen.add(key);
      let st = this.#processes.get(key);
      const known = st !== undefined;
      if (!st) {
        st = {
          memory: [],
          baseline: undefined,
          cpu: [],
          connections: [],
          lastConnections: new Set(),
          reported: new Map(),
        };
        this.#processes.set(key, st);
      }
      this.#memory(host, snapshot, p, st, out);
      this.#cpu(host, snapshot, t, p, st, out);
      this.#connections(host, snapshot, t, p, st, known, outbound.get(p.pid), out);
      this.#executable(host, snapshot, p, out);
    }
    // Exited processes leave the table (a pid reused later is another process).
    const gone: string[] = [];
    for (const [key] of this.#processes.entries()) if (!seen.has(key)) gone.push(key);
    for (const key of gone) this.#processes.delete(key);
    this.#persistenceEntries(host, snapshot, out);
    this.#primed = true;
    return out;
  }

  finalize(): Finding[] {
    return [];
  }

  stats(): Record<string, number> {
    return {
      snapshots: this.#snapshots,
      processes: this.#processes.size,
      processesEvicted: this.#processes.evicted,
      knownExecutables: this.#executables.size,
      knownExecutablesEvicted: this.#executables.evicted,
      knownPersistence: this.#persistence.size,
      knownPersistenceEvicted: this.#persistence.evicted,
      connectionsTruncated: this.#truncatedConnections,
    };
  }

  /** True when `severity` for `rule` was not the last reported for this process (first firing, or a change). */
  #rises(st: ProcessState, rule: RuleDeclaration, severity: Severity): boolean {
    const before = st.reported.get(rule.id);
    if (before === severity) return false;
    st.reported.set(rule.id, severity);
    return true;
  }

  #processFinding(
    host: string,
    snapshot: HostSnapshot,
    p: ProcessInfo,
    rule: RuleDeclaration,
    severity: Severity,
    message: string,
    evidence: Record<string, unknown>,
  ): Finding {
    return makeFinding({
      rule: { id: rule.id, name: rule.name, ruleset: rule.ruleset },
      severity,
      techniques: rule.techniques,
      host,
      hostname: snapshot.host.name,
      subject: [programSubject(p)],
      message,
      timestamp: snapshot.takenAt,
      process: ecsProcess(p),
      evidence,
    });
  }

  #memory(host: string, snapshot: HostSnapshot, p: ProcessInfo, st: ProcessState, out: Finding[]): void {
    const o = this.#o;
    if (st.baseline === undefined) {
      st.memory.push(p.rssBytes);
      if (st.memory.length >= o.memorySamples) {
        st.baseline = median(st.memory);
        st.memory = [];
      }
      return;
    }
    const base = st.baseline;
    const grown = p.rssBytes > base * o.memoryRatio && p.rssBytes - base >= o.memoryMinGrowthBytes;
    if (!grown) {
      st.reported.delete(MEMORY_GROWTH.id);
      return;
    }
    const ratio = base > 0 ? p.rssBytes / base : Number.POSITIVE_INFINITY;
    const severity: Severity = ratio >= 3 ? 'medium' : 'low';
    if (!this.#rises(st, MEMORY_GROWTH, severity)) return;
    out.push(
      this.#processFinding(
        host,
        snapshot,
        p,
        MEMORY_GROWTH,
        severity,
        `${p.name} (pid ${p.pid}) uses ${Math.round(p.rssBytes / 1048576)} MB, ${Math.round(ratio * 100)} % of its own baseline of ${Math.round(base / 1048576)} MB.`,
        {
          rss_bytes: p.rssBytes,
          baseline_bytes: Math.round(base),
          ratio: round2(ratio),
          baseline_samples: o.memorySamples,
          next_step: 'Check what the process loaded or was injected with, and where it connects.',
        },
      ),
    );
  }

  #cpu(
    host: string,
    snapshot: HostSnapshot,
    t: number,
    p: ProcessInfo,
    st: ProcessState,
    out: Finding[],
  ): void {
    const o = this.#o;
    // Without a sampling window a snapshot's CPU is the lifetime average: no use for a duty cycle.
    if (snapshot.windowMs <= 0 || !Number.isFinite(t)) return;
    // Samples come in time order: copy the list only when some fell out of the window (or time went back).
    if (st.cpu.length > 0 && (st.cpu[0]!.t <= t - o.cpuWindowMs || st.cpu.at(-1)!.t >= t))
      st.cpu = st.cpu.filter((s) => s.t > t - o.cpuWindowMs && s.t < t);
    st.cpu.push({ t, cores: p.cpuCores });
    if (st.cpu.length > MAX_CPU_SAMPLES) st.cpu.splice(0, st.cpu.length - MAX_CPU_SAMPLES);
    const span = t - st.cpu[0]!.t;
    if (st.cpu.length < o.cpuMinSamples || span < o.cpuMinSpanMs) return;
    // Most processes idle: a sample under 0.03 rules out the capped pattern and a mean under 0.8 the
    // sustained one, so the statistics below would say neither (checked without building them).
    let min = Number.POSITIVE_INFINITY;
    let sum = 0;
    for (const s of st.cpu) {
      if (s.cores < min) min = s.cores;
      sum += s.cores;
    }
    if (min < 0.03 && sum / st.cpu.length < 0.8) {
      st.reported.delete(SUSTAINED_CPU.id);
      return;
    }
    const series = st.cpu.map((s) => s.cores);
    const stats = cpuStats(series);
    const busy = series.filter((x) => x >= 0.5).length / stats.n;
    const share = stats.mean / Math.max(1, snapshot.host.cpus);
    const sustained = stats.mean >= 0.8 && busy >= 0.8;
    const capped =
      !sustained &&
      ((stats.mean >= 0.05 && stats.mean <= 0.45) || (share >= 0.05 && share <= 0.35)) &&
      stats.min >= 0.03 &&
      stats.cv <= 0.25;
    if (!sustained && !capped) {
      st.reported.delete(SUSTAINED_CPU.id);
      return;
    }
    const dropped = looksDropped(p);
    const severity: Severity = dropped ? 'high' : p.packaged === true ? 'low' : 'medium';
    if (!this.#rises(st, SUSTAINED_CPU, severity)) return;
    const minutes = Math.round((span / MINUTE) * 10) / 10;
    const what = sustained
      ? `kept ${Math.round(stats.mean * 100)} % of a core busy`
      : `held a steady ${Math.round(stats.mean * 100)} % of a core (variation ${Math.round(stats.cv * 100)} %), the capped duty cycle of a throttled miner,`;
    out.push(
      this.#processFinding(
        host,
        snapshot,
        p,
        SUSTAINED_CPU,
        severity,
        `${p.name} (pid ${p.pid}) ${what} for ${minutes} min.`,
        {
          pattern: sustained ? 'sustained' : 'throttled',
          minutes,
          cpu: { mean: round2(stats.mean), cv: round2(stats.cv), min: round2(stats.min), samples: stats.n },
          machine_share: round2(share),
          next_step:
            'Ask the owner whether this workload is expected; if not, check the binary and its pool.',
        },
      ),
    );
  }

  #connections(
    host: string,
    snapshot: HostSnapshot,
    t: number,
    p: ProcessInfo,
    st: ProcessState,
    known: boolean,
    current: Set<string> | undefined,
    out: Finding[],
  ): void {
    const o = this.#o;
    if (!Number.isFinite(t)) return;
    const now = current ?? new Set<string>();
    // Connections that appeared since the previous snapshot; on first sight of a process they are its past, not a burst.
    const fresh: string[] = [];
    if (known) for (const c of now) if (!st.lastConnections.has(c)) fresh.push(c);
    const inWindow = snapshot.newOutbound[String(p.pid)] ?? 0;
    const n = Math.max(fresh.length, inWindow);
    const keep = now.size > o.maxConnectionsPerProcess ? [...now].slice(0, o.maxConnectionsPerProcess) : now;
    if (keep !== now) this.#truncatedConnections++;
    st.lastConnections = new Set(keep);
    st.connections = st.connections.filter((c) => c.t > t - MINUTE && c.t < t);
    if (n > 0)
      st.connections.push({
        t,
        n,
        destinations: fresh.slice(0, MAX_DESTINATIONS).map((c) => c.slice(c.indexOf('|') + 1)),
      });
    const total = st.connections.reduce((a, c) => a + c.n, 0);
    if (total <= o.connectionsPerMinute) {
      st.reported.delete(CONNECTION_BURST.id);
      return;
    }
    const severity: Severity = total > 4 * o.connectionsPerMinute ? 'high' : 'medium';
    if (!this.#rises(st, CONNECTION_BURST, severity)) return;
    const destinations = [...new Set(st.connections.flatMap((c) => c.destinations))].slice(
      0,
      MAX_DESTINATIONS,
    );
    out.push(
      this.#processFinding(
        host,
        snapshot,
        p,
        CONNECTION_BURST,
        severity,
        `${p.name} (pid ${p.pid}) opened ${total} new outbound connections within a minute (more than ${o.connectionsPerMinute}).`,
        {
          connections_per_minute: total,
          threshold: o.connectionsPerMinute,
          destinations,
          next_step: 'Look at where it connects: pool fail-over, scanning and spreading all look like this.',
        },
      ),
    );
  }

  #executable(host: string, snapshot: HostSnapshot, p: ProcessInfo, out: Finding[]): void {
    if (!p.exe) return;
    const identity = `${p.exe}\0${p.sha256 ?? ''}`;
    if (this.#executables.get(identity)) return;
    this.#executables.set(identity, true);
    if (!this.#primed) return;
    const dropped = looksDropped(p);
    out.push(
      makeFinding({
        rule: { id: NEW_EXECUTABLE.id, name: NEW_EXECUTABLE.name, ruleset: NEW_EXECUTABLE.ruleset },
        severity: dropped ? 'medium' : 'low',
        techniques: NEW_EXECUTABLE.techniques,
        host,
        hostname: snapshot.host.name,
        subject: p.sha256 ? [p.exe, p.sha256] : [p.exe],
        message: `${p.exe} started running (pid ${p.pid}) since the last scan${dropped ? ', from an unpackaged, deleted or temporary location' : ''}.`,
        timestamp: snapshot.takenAt,
        process: ecsProcess(p),
        evidence: {
          packaged: p.packaged ?? null,
          ...(p.packageName ? { package: p.packageName } : {}),
          deleted: p.exeDeleted,
          next_step: 'Check who started it and whether it belongs on this host.',
        },
      }),
    );
  }

  #persistenceEntries(host: string, snapshot: HostSnapshot, out: Finding[]): void {
    const paths = new Set<string>();
    for (const f of snapshot.files) {
      if (FILE_KINDS_NOT_PERSISTENCE.has(f.kind)) continue;
      paths.add(f.path);
      // Every line of a file unchanged since the last snapshot was looked at then (usually the very same string).
      if (this.#fileTexts.get(f.path) === f.text) continue;
      this.#fileTexts.set(f.path, f.text);
      const lines = f.text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!.trim();
        if (!line || line.startsWith('#') || line.startsWith(';')) continue;
        const key = `${f.path}\0${line}`;
        if (this.#persistence.get(key)) continue;
        this.#persistence.set(key, true);
        if (!this.#primed) continue;
        const suspicious = /\/(tmp|var\/tmp|dev\/shm)\/|\/\.[^/\s]|curl|wget|base64|\|\s*(ba)?sh/.test(line);
        out.push(
          makeFinding({
            rule: { id: NEW_PERSISTENCE.id, name: NEW_PERSISTENCE.name, ruleset: NEW_PERSISTENCE.ruleset },
            severity: suspicious ? 'medium' : 'low',
            techniques: NEW_PERSISTENCE.techniques.filter((x) => x === techniqueOf(f.kind)),
            host,
            hostname: snapshot.host.name,
            subject: [f.path, line],
            message: `New ${f.kind} entry in ${f.path} (line ${i + 1}) since the last scan: ${line.slice(0, 200)}`,
            timestamp: snapshot.takenAt,
            evidence: {
              file: f.path,
              line: i + 1,
              kind: f.kind,
              content: line.slice(0, 2000),
              ...(f.mtime ? { mtime: f.mtime } : {}),
              ...(f.package ? { package: f.package } : {}),
              next_step: 'Find out who added the entry and what it runs.',
            },
          }),
        );
      }
    }
    for (const path of [...this.#fileTexts.keys()]) if (!paths.has(path)) this.#fileTexts.delete(path);
  }
}

function techniqueOf(kind: string): string {
  return PERSISTENCE_TECHNIQUE[kind] ?? 'T1547';
}
