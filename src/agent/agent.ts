import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, hostname, networkInterfaces, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeminerError, describeError } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import { canonicalHostName } from '../core/host-identity.ts';
import type { HostSnapshot } from '../core/host-snapshot.ts';
import { packagePath } from '../core/paths.ts';
import type { Severity } from '../core/severity.ts';
import { parseAllowlist } from '../detect/host/allowlist/parse.ts';
import { BehaviourHistory, dayOf } from '../detect/host/behaviour/history.ts';
import { hostPoolIntel } from '../detect/host/pool-intel.ts';
import type { HostAnalyticContext } from '../detect/host/types.ts';
import { HostBaselineDetector } from '../detect/host-baseline/index.ts';
import { LruMap } from '../detect/network/lru-map.ts';
import { loadDefaultIntel } from '../intel/index.ts';
import { ScanCache, type ScanResult, scanHost } from '../pipeline/scan.ts';
import { BehaviourWatch } from '../sources/procfs/behaviour-watch.ts';
import { type AgentConfig, ApiClient, ApiClientError, type HostFacts, type MetricItem } from './client.ts';
import { EnergyMeter } from './energy.ts';
import { AgentIsolation } from './isolation.ts';
import { FINDINGS_PER_BATCH } from './send-findings.ts';
import { Backoff, type Disposition, Spool, type SpoolStats } from './spool.ts';
import { AgentTasks } from './tasks.ts';

/**
 * The endpoint agent: enrols once (the token is kept in its state folder),
 * then every interval takes a snapshot of the host, runs the host analytics
 * and the baselines kept between snapshots, and sends what is new or changed
 * (findings) and how the host and its watched processes are doing (metrics).
 * Everything goes through the on-disk spool, so nothing is lost while the
 * server is away and nothing is stored twice when it comes back.
 */

export interface AgentOptions {
  server: string;
  /** Traded once for a token; not needed once the state folder holds one. */
  enrollSecret?: string;
  stateDir: string;
  /** Scan interval; default: the server's config, else 10 s. Given here, it wins over the server's. */
  intervalMs?: number;
  /**
   * Sampling window of each scan. 1 s by default: enough for a CPU reading
   * per process (the duty cycle is judged over minutes by the baselines) and
   * cheap enough to stay around 1 % of a core at a 10 s interval.
   */
  windowMs?: number;
  /** One scan, deliver, stop. */
  once?: boolean;
  pinSha256?: string;
  signal?: AbortSignal;
  /** Root of the file system whose persistence files are read (default /). */
  fsRoot?: string;
  /** Check pools against the shipped threat intelligence (default true). */
  intel?: boolean;
  spoolBytes?: number;
  /** Re-send an unchanged finding after this long, so the server sees it is still there. Default 1 h. */
  resendAfterMs?: number;
  /**
   * The Linux posture audit (`deminer audit --host`, or the tree at fsRoot)
   * `auditFirstDelayMs` after start and then this often; its failures are
   * sent as findings. 0: never. It runs in the agent's process and holds its
   * loop for the few seconds it takes (apt-get -s, getcap): once a day.
   * Default 24 h on the live host; with fsRoot (a test's tree) only when given.
   */
  auditIntervalMs?: number;
  /**
   * How long after start the first audit runs (default 10 min: a starting
   * agent scans first, and short runs, `--once` included, never pay for it).
   */
  auditFirstDelayMs?: number;
  /**
   * Sample the processes that use the CPU once a second, for the behaviour
   * model (src/sources/procfs/behaviour-watch.ts). Default true; never with `once`.
   */
  behaviour?: boolean;
  log?: (message: string) => void;
  /** Called after each scan (tests, status). */
  onScan?: (s: ScanReport) => void;
  /** Called with each findings batch the spool accepted. */
  onQueued?: (findings: readonly Finding[]) => void;
}

export interface ScanReport {
  at: string;
  findings: number;
  queued: number;
  scanMs: number;
  spool: SpoolStats;
}

export interface AgentSummary {
  scans: number;
  findingsQueued: number;
  /** Batches still in the spool when the agent stopped. */
  pending: number;
  spool: SpoolStats;
}

interface AgentState {
  server: string;
  token: string;
  host: { id: string; name: string };
  enrolled_at: string;
}

export const DEFAULT_INTERVAL_MS = 10_000;
export const DEFAULT_WINDOW_MS = 1_000;
/** How often the posture audit runs (it may run apt-get and getcap: never with each scan). */
export const DEFAULT_AUDIT_INTERVAL_MS = 24 * 3600_000;
/** When the first posture audit runs after start, by default. */
export const DEFAULT_AUDIT_FIRST_DELAY_MS = 10 * 60_000;
/** The least interval honoured (a scan with its window must fit in it). */
const MIN_INTERVAL_MS = 2_000;
/** How often the agent reads the fleet's learned pools from the server. */
const LEARNED_POOLS_EVERY_MS = 10 * 60_000;
/** How long a scan waits for the heartbeat sent just before it. */
const HEARTBEAT_GRACE_MS = 2_000;
/** Fingerprints remembered as sent. */
const MAX_SENT = 50_000;
/** Processes with metrics per scan besides those with findings: the busiest. */
const TOP_PROCESSES = 5;
/** Name of the file that may hold the enrolment secret (written by `deminer agent install`). */
export const ENROL_SECRET_FILE = 'enrol-secret';
const STATE_FILE = 'state.json';

function writePrivate(file: string, text: string): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
  chmodSync(file, 0o600);
}

function readState(dir: string): AgentState | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  const s = raw as Partial<AgentState>;
  if (typeof s.token !== 'string' || typeof s.server !== 'string' || typeof s.host?.name !== 'string')
    return undefined;
  return s as AgentState;
}

function agentVersion(): string {
  try {
    const v = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: unknown })
      .version;
    return typeof v === 'string' ? v : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function hostFacts(energy?: EnergyMeter): HostFacts {
  const addresses: string[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (!a.internal && addresses.length < 64) addresses.push(a.address);
  return {
    os: 'linux',
    kernel: release(),
    addresses,
    agent_version: agentVersion(),
    cpus: cpus().length || 1,
    ...wattsOf(energy),
  };
}

/** The measured marginal watts per busy core, once the RAPL counters allow a fit (energy.ts). */
function wattsOf(energy: EnergyMeter | undefined): { watts_per_core?: number } {
  const w = energy?.wattsPerCore();
  return w === undefined ? {} : { watts_per_core: w };
}

function sameServer(a: string, b: string): boolean {
  const norm = (u: string) => u.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  return norm(a) === norm(b);
}

/** How the spool treats a failed send: wait, set aside, or stop and tell. */
function classify(e: unknown): Disposition {
  if (e instanceof ApiClientError) {
    if (e.retryable) return 'retry';
    // The request itself is refused (bad input, too large): sending it again cannot help.
    if (e.code === 'API_REJECTED') return 'reject';
    // 401/403 and a wrong certificate: the batch is fine, the credentials are not; keep it.
    return 'stop';
  }
  return 'retry';
}

export class Agent {
  readonly #o: AgentOptions;
  readonly #log: (m: string) => void;
  readonly #base: ApiClient;
  readonly #detector = new HostBaselineDetector();
  /** What stays true between scans (process details, socket tables, files): see scan-cache.ts. */
  readonly #scanCache = new ScanCache();
  /** 1 Hz behaviour sampling of the busy processes, between and through scans. */
  #watch: BehaviourWatch | undefined;
  readonly #sent = new LruMap<string, { severity: Severity; at: number }>(MAX_SENT);
  #client: ApiClient | undefined;
  /** This host's firewall isolation, when the server holds one (isolation.ts). */
  #isolation: AgentIsolation | undefined;
  /** What a busy core costs this host in watts, from its RAPL counters (energy.ts). */
  readonly #energy = new EnergyMeter();
  /** Forensics and eradication the server hands over (tasks.ts). */
  #tasks: AgentTasks | undefined;
  #state: AgentState | undefined;
  #spool: Spool | undefined;
  #config: AgentConfig | undefined;
  #context: HostAnalyticContext = {};
  #allowlistText: string | undefined;
  #scans = 0;
  #queued = 0;
  #lastError = '';

  constructor(o: AgentOptions) {
    this.#o = o;
    this.#log = o.log ?? ((m) => process.stderr.write(`deminer agent: ${m}\n`));
    this.#base = new ApiClient({
      server: o.server,
      ...(o.pinSha256 ? { pinSha256: o.pinSha256 } : {}),
      userAgent: `deminer-agent/${agentVersion()}`,
    });
  }

  /** The host name findings carry and the server knows this agent by. */
  get hostName(): string {
    return this.#state?.host.name ?? canonicalHostName(hostname());
  }

  async run(): Promise<AgentSummary> {
    const o = this.#o;
    mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
    chmodSync(o.stateDir, 0o700);
    this.#spool = await Spool.open(join(o.stateDir, 'spool'), {
      ...(o.spoolBytes ? { maxBytes: o.spoolBytes } : {}),
      warn: this.#log,
    });
    this.#context.poolIntel = hostPoolIntel(o.intel !== false ? loadDefaultIntel() : undefined);
    await this.#enrol();
    this.#client = this.#base.withToken(this.#state!.token);
    const client = this.#client;
    const hostId = this.#state!.host.id;
    this.#isolation = new AgentIsolation({
      stateDir: o.stateDir,
      server: o.server,
      report: (r) => client.reportIsolation(hostId, r),
      log: this.#log,
    });
    // An isolation that held before a restart is back in place before anything else.
    await this.#isolation.resume();
    this.#tasks = new AgentTasks({
      stateDir: o.stateDir,
      ...(o.fsRoot ? { fsRoot: o.fsRoot } : {}),
      upload: (taskId, a) =>
        client.uploadEvidence(
          hostId,
          taskId,
          {
            kind: a.kind,
            name: a.name,
            sha256: a.sha256,
            collected_at: a.collectedAt,
            ...(a.pid === undefined ? {} : { pid: a.pid }),
          },
          { path: a.path, bytes: a.bytes },
        ),
      report: (taskId, r) => client.reportTask(hostId, taskId, r),
      log: this.#log,
    });
    await this.#heartbeat();
    this.#auditDue = Date.now() + (o.auditFirstDelayMs ?? DEFAULT_AUDIT_FIRST_DELAY_MS);
    if (o.once) {
      await this.#cycle();
      if ((o.auditFirstDelayMs ?? DEFAULT_AUDIT_FIRST_DELAY_MS) === 0) await this.#posture();
      await this.#deliver(3);
      return this.#summary();
    }
    const sender = this.#sender();
    if (o.behaviour !== false) {
      this.#watch = new BehaviourWatch();
      this.#watch.start();
      this.#context.behaviourHistory = BehaviourHistory.load(this.#historyPath(), this.#log);
    }
    const stop = o.signal;
    while (!stop?.aborted) {
      const started = Date.now();
      // Let the heartbeat end before the scan starts (waiting 2 s at most: a
      // silent server must not hold scans up): its connection, opened during
      // the sampling window, would have the scan read the socket tables and
      // look for their owner again for nothing.
      await Promise.race([this.#heartbeat(), sleep(HEARTBEAT_GRACE_MS, undefined, { ref: false })]);
      await this.#cycle();
      await this.#posture();
      const wait = Math.max(0, this.#intervalMs() - (Date.now() - started));
      try {
        await sleep(wait, undefined, stop ? { signal: stop } : {});
      } catch {
        break;
      }
    }
    this.#watch?.stop();
    await sender;
    await this.#tasks?.idle();
    return this.#summary();
  }

  #summary(): AgentSummary {
    const spool = this.#spool!.stats();
    return { scans: this.#scans, findingsQueued: this.#queued, pending: spool.batches, spool };
  }

  #intervalMs(): number {
    const fromServer = this.#config ? this.#config.interval_s * 1000 : undefined;
    const ms = this.#o.intervalMs ?? fromServer ?? DEFAULT_INTERVAL_MS;
    return Math.min(3600_000, Math.max(MIN_INTERVAL_MS, ms));
  }

  /** Uses the saved token, or trades the enrolment secret for one (retrying while the server is away). */
  async #enrol(): Promise<void> {
    const o = this.#o;
    const saved = readState(o.stateDir);
    if (saved && sameServer(saved.server, o.server)) {
      this.#state = saved;
      return;
    }
    const secretFile = join(o.stateDir, ENROL_SECRET_FILE);
    let secret = o.enrollSecret;
    if (!secret) {
      try {
        secret = readFileSync(secretFile, 'utf8').trim();
      } catch {
        secret = undefined;
      }
    }
    if (!secret)
      throw new DeminerError(
        'AGENT_NOT_ENROLLED',
        saved
          ? `the saved token is for ${saved.server}, not ${o.server}: enrol with --enroll SECRET`
          : 'this agent has no token yet: give an enrolment secret with --enroll SECRET (deminer serve prints one; POST /api/v1/enrolments makes more)',
      );
    const backoff = new Backoff();
    const name = canonicalHostName(hostname());
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.#base.enrol(secret, { name, ...hostFacts() });
        this.#state = {
          server: o.server,
          token: r.token,
          host: r.host,
          enrolled_at: new Date().toISOString(),
        };
        writePrivate(join(o.stateDir, STATE_FILE), `${JSON.stringify(this.#state, null, 2)}\n`);
        rmSync(secretFile, { force: true });
        this.#log(`enrolled as ${r.host.name} (${r.host.id})`);
        return;
      } catch (e) {
        if (e instanceof ApiClientError && e.code === 'API_UNAUTHORIZED')
          throw new DeminerError(
            'AGENT_ENROL_REFUSED',
            'the server refused the enrolment secret (unknown, expired or used up)',
            {
              cause: e,
            },
          );
        if (!(e instanceof ApiClientError) || !e.retryable || (o.once && attempt >= 3) || o.signal?.aborted)
          throw e;
        const wait = backoff.next();
        this.#log(`enrolment: ${describeError(e)}; retrying in ${Math.round(wait / 1000)} s`);
        await sleep(wait, undefined, o.signal ? { signal: o.signal } : {});
      }
    }
  }

  #heartbeatInFlight = false;

  async #heartbeat(): Promise<void> {
    // A server that swallows packets must not pile up heartbeats behind the timeout.
    if (this.#heartbeatInFlight) return;
    this.#heartbeatInFlight = true;
    try {
      const { config, isolation, isolationUnreadable, tasks } = await this.#client!.heartbeat(
        hostFacts(this.#energy),
      );
      this.#config = config;
      await this.#isolation?.onHeartbeat(isolation, isolationUnreadable === true);
      this.#tasks?.onHeartbeat(tasks);
      void this.#refreshLearnedPools();
      if (config.allowlist !== this.#allowlistText) {
        this.#allowlistText = config.allowlist;
        if (config.allowlist) {
          try {
            this.#context.allowlist = parseAllowlist(config.allowlist, 'server allow-list');
          } catch (e) {
            this.#logOnce(`the server's allow-list cannot be read: ${describeError(e)}`);
          }
        } else delete this.#context.allowlist;
      }
    } catch (e) {
      this.#logOnce(`heartbeat: ${describeError(e)}`);
    } finally {
      this.#heartbeatInFlight = false;
    }
  }

  #learnedAt = 0;

  /**
   * The pools the fleet learned (a sensor saw some host mine to them), every
   * LEARNED_POOLS_EVERY_MS: a connection of this host to one is a listed-pool
   * signal, though no list names it.
   */
  async #refreshLearnedPools(): Promise<void> {
    const now = Date.now();
    if (now - this.#learnedAt < LEARNED_POOLS_EVERY_MS || !this.#context.poolIntel?.seedLearned) return;
    this.#learnedAt = now;
    try {
      this.#context.poolIntel.seedLearned(await this.#client!.learnedPools());
    } catch (e) {
      this.#logOnce(`learned pools: ${describeError(e)}`);
    }
  }

  #logOnce(m: string): void {
    if (m === this.#lastError) return;
    this.#lastError = m;
    this.#log(m);
  }

  /** One scan: findings that are new or changed, and metrics, into the spool. */
  async #cycle(): Promise<void> {
    const o = this.#o;
    let scan: ScanResult;
    try {
      scan = await scanHost({
        windowMs: o.windowMs ?? DEFAULT_WINDOW_MS,
        fsRoot: o.fsRoot ?? '/',
        hash: 'suspicious',
        context: this.#context,
        cache: this.#scanCache,
        ...(this.#watch ? { watch: this.#watch } : {}),
      });
    } catch (e) {
      if (o.signal?.aborted) return;
      this.#log(`scan failed: ${describeError(e)}`);
      return;
    }
    this.#scans++;
    this.#energy.sample();
    const snapshot = scan.snapshot;
    this.#noteBehaviour(snapshot, scan.findings);
    const baseline = this.#detector.observe(snapshot);
    const all = [...scan.findings, ...baseline];
    const fresh = this.#newOrChanged(all, Date.parse(snapshot.takenAt));
    for (let i = 0; i < fresh.length; i += FINDINGS_PER_BATCH) {
      const batch = fresh.slice(i, i + FINDINGS_PER_BATCH);
      const r = await this.#spool!.add('findings', batch);
      if (r.accepted) {
        this.#queued += batch.length;
        o.onQueued?.(batch);
      }
    }
    await this.#spool!.add('metrics', metrics(snapshot, all));
    o.onScan?.({
      at: snapshot.takenAt,
      findings: all.length,
      queued: fresh.length,
      scanMs: scan.totalMs,
      spool: this.#spool!.stats(),
    });
  }

  #historyPath(): string {
    return join(this.#o.stateDir, 'behaviour-history.json');
  }

  /** The package-owned programs that behaved like miners today go into the per-binary baseline. */
  #noteBehaviour(snapshot: HostSnapshot, findings: readonly Finding[]): void {
    const history = this.#context.behaviourHistory;
    if (!history) return;
    const day = dayOf(snapshot.takenAt);
    for (const f of findings) {
      const signals = f.evidence['signals'];
      if (
        !Array.isArray(signals) ||
        !signals.some((s) => (s as { id?: unknown }).id === 'behaviour.miner_like')
      )
        continue;
      const p = snapshot.processes.find((x) => x.pid === f.process?.pid);
      const key = p ? BehaviourHistory.keyOf(p) : undefined;
      if (key) history.note(key, day);
    }
    try {
      history.save(this.#historyPath());
    } catch (e) {
      this.#logOnce(`cannot save the behaviour baseline: ${describeError(e)}`);
    }
  }

  /** When the next posture audit is due (set at start: DEFAULT_AUDIT_FIRST_DELAY_MS from then). */
  #auditDue = 0;

  /**
   * The posture audit when due: its failures (rule `deminer.posture.<id>`)
   * into the spool like a scan's findings. src/audit is imported here, on
   * first use, so an agent with the audit off never loads it.
   */
  async #posture(): Promise<void> {
    const o = this.#o;
    const every = o.auditIntervalMs ?? (o.fsRoot ? 0 : DEFAULT_AUDIT_INTERVAL_MS);
    if (every <= 0 || process.platform !== 'linux' || Date.now() < this.#auditDue || o.signal?.aborted)
      return;
    this.#auditDue = Date.now() + every;
    try {
      const { linuxPosture } = await import('../audit/agent-posture.ts');
      const run = linuxPosture({ host: this.hostName, ...(o.fsRoot ? { fsRoot: o.fsRoot } : {}) });
      const fresh = this.#newOrChanged(run.findings, Date.now());
      for (let i = 0; i < fresh.length; i += FINDINGS_PER_BATCH) {
        const batch = fresh.slice(i, i + FINDINGS_PER_BATCH);
        const r = await this.#spool!.add('findings', batch);
        if (r.accepted) {
          this.#queued += batch.length;
          o.onQueued?.(batch);
        }
      }
      const c = run.score.counts;
      this.#log(
        `posture audit (${run.origin}): ${run.score.score === null ? 'no score' : `score ${run.score.score}/100`}, ${c.fail} failed, ${c.pass} passed`,
      );
    } catch (e) {
      this.#log(`posture audit failed: ${describeError(e)}`);
    }
  }

  /** Findings not sent yet, whose severity changed, or unchanged for longer than the re-send period. */
  #newOrChanged(findings: readonly Finding[], now: number): Finding[] {
    const never = new Set(this.#config?.never_alert ?? []);
    const resend = this.#o.resendAfterMs ?? 3600_000;
    const out: Finding[] = [];
    const seen = new Set<string>();
    for (const f of findings) {
      if (seen.has(f.fingerprint)) continue;
      seen.add(f.fingerprint);
      if (
        never.has(f.rule.id) ||
        never.has(f.fingerprint) ||
        (f.process?.executable !== undefined && never.has(f.process.executable))
      )
        continue;
      // The server checks that an agent writes for its own host only.
      if (f.host.name !== this.hostName) continue;
      const last = this.#sent.get(f.fingerprint);
      if (last && last.severity === f.severity && now - last.at < resend) continue;
      this.#sent.set(f.fingerprint, { severity: f.severity, at: now });
      out.push(f);
    }
    return out;
  }

  async #send(kind: 'findings' | 'metrics', items: unknown[], key: string): Promise<void> {
    if (kind === 'findings') await this.#client!.sendFindings(items as Finding[], key);
    else await this.#client!.sendMetrics(items as MetricItem[]);
  }

  /** Delivers the spool in the background for as long as the agent runs. */
  async #sender(): Promise<void> {
    const signal = this.#o.signal;
    const backoff = new Backoff();
    while (!signal?.aborted) {
      await this.#spool!.whenNotEmpty(signal);
      if (signal?.aborted) break;
      try {
        await this.#spool!.drain((b) => this.#send(b.kind, b.items, b.idempotencyKey), {
          ...(signal ? { signal } : {}),
          classify,
          backoff,
          onRetry: (e, ms) =>
            this.#logOnce(`server unreachable (${describeError(e)}); retrying in ${Math.round(ms / 1000)} s`),
        });
        if (this.#lastError) {
          this.#lastError = '';
          this.#log('server reachable again; spool delivered');
        }
      } catch (e) {
        // Credentials refused: keep everything and try again at the slowest pace.
        this.#logOnce(`the server refuses this agent (${describeError(e)}); findings stay in the spool`);
        try {
          await sleep(60_000, undefined, signal ? { signal } : {});
        } catch {
          break;
        }
      }
    }
  }

  /** `--once`: send what is spooled, a few tries at most. */
  async #deliver(tries: number): Promise<void> {
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    this.#o.signal?.addEventListener('abort', onAbort, { once: true });
    let failures = 0;
    try {
      await this.#spool!.drain((b) => this.#send(b.kind, b.items, b.idempotencyKey), {
        signal: ac.signal,
        classify,
        backoff: new Backoff(500, 4000),
        onRetry: (e) => {
          this.#log(`server unreachable (${describeError(e)})`);
          if (++failures >= tries) ac.abort();
        },
      });
    } catch (e) {
      this.#log(`delivery refused: ${describeError(e)}`);
    } finally {
      this.#o.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Host CPU (cores in use) and memory, and the same per watched process: those with findings and the busiest few. */
function metrics(snapshot: HostSnapshot, findings: readonly Finding[]): MetricItem[] {
  const at = snapshot.takenAt;
  let cores = 0;
  for (const p of snapshot.processes) cores += p.cpuCores;
  const items: MetricItem[] = [
    {
      subject: 'host',
      at,
      cpu: Math.round(cores * 1000) / 1000,
      memory_bytes: Math.max(0, totalmem() - freemem()),
    },
  ];
  const flagged = new Set(findings.map((f) => f.process?.pid).filter((p): p is number => p !== undefined));
  const user = snapshot.processes.filter((p) => !p.kernelThread);
  const busiest = [...user].sort((a, b) => b.cpuCores - a.cpuCores).slice(0, TOP_PROCESSES);
  const watched = new Map<number, (typeof user)[number]>();
  for (const p of busiest) watched.set(p.pid, p);
  for (const p of user) if (flagged.has(p.pid)) watched.set(p.pid, p);
  const perMinute = snapshot.windowMs > 0 ? 60_000 / snapshot.windowMs : 0;
  for (const p of watched.values()) {
    const item: MetricItem = {
      subject: `${p.pid}:${p.startTime ?? ''}`.slice(0, 500),
      at,
      cpu: p.cpuCores,
      memory_bytes: p.rssBytes,
    };
    const n = snapshot.newOutbound[String(p.pid)];
    if (n !== undefined && perMinute > 0) item.connections_per_minute = Math.round(n * perMinute);
    items.push(item);
  }
  return items;
}

/** Runs the agent until `signal` aborts (or after one scan with `once`). */
export function runAgent(o: AgentOptions): Promise<AgentSummary> {
  return new Agent(o).run();
}
