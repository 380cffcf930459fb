import type { Finding } from '../core/finding.ts';
import {
  type CollectParams,
  CollectParamsSchema,
  type EradicateParams,
  EradicateParamsSchema,
  type EradicateStep,
  type PersistenceEntry,
  type ProcessTarget,
  type TaskResult,
} from '../respond/host-tasks/protocol.ts';
import type { IncidentRecord } from '../store/incident-types.ts';
import type { TaskRecord } from '../store/task-types.ts';
import type { Store } from '../store/types.ts';
import { type CaseEngine, CaseError, clocksOf } from './engine.ts';
import { isMiningFinding } from './indicators.ts';

/**
 * Forensics and eradication for an incident, run by the host's agent
 * (issue 17). This module decides what to ask for — the miner's processes
 * and persistence entries, read from the findings the incident holds — and
 * what the answers mean for the incident: every step on the timeline, a
 * verified eradication that starts a watch period, and a miner or
 * persistence that comes back during it sending the incident back to
 * eradication. The agent's side is src/agent/forensics.ts and
 * src/agent/eradicate.ts; the store's src/store/tasks.ts.
 */

/** How long after a verified eradication a returning miner sends the incident back (default). */
export const DEFAULT_WATCH_MS = 30 * 60_000;
/** Findings read per incident to find targets (its newest). */
const MAX_FINDINGS_READ = 500;

export interface Targets {
  targets: ProcessTarget[];
  persistence: PersistenceEntry[];
}

/**
 * The processes and persistence entries the incident's findings name
 * (deduplicated, bounded). Only the miner is a target: the processes of
 * mining findings (ATT&CK T1496), never those of the other findings an
 * incident collects; and the persistence entries that start it (a mining
 * finding's own file, or an entry whose line names a target's executable).
 */
export function targetsOf(findings: readonly Finding[], onlyPid?: number): Targets {
  const procs = new Map<string, ProcessTarget>();
  const persistence = new Map<string, PersistenceEntry>();
  for (const f of findings) {
    const p = f.process;
    const mining = isMiningFinding(f);
    if (p?.pid !== undefined && (onlyPid === undefined ? mining : p.pid === onlyPid)) {
      const t: ProcessTarget = { pid: p.pid };
      if (p.start) t.start = p.start;
      if (p.executable) t.executable = p.executable.slice(0, 4096);
      const sha = p.hash?.sha256?.toLowerCase();
      if (sha && /^[0-9a-f]{64}$/.test(sha)) t.sha256 = sha;
      const key = `${t.pid}|${t.start ?? ''}`;
      const old = procs.get(key);
      procs.set(key, {
        ...t,
        ...old,
        ...(t.sha256 || old?.sha256 ? { sha256: t.sha256 ?? old?.sha256 } : {}),
      });
    }
  }
  const exes = [...procs.values()].map((t) => t.executable).filter((e): e is string => e !== undefined);
  for (const f of findings) {
    const file = f.evidence['file'];
    const line = f.evidence['line'];
    const content = f.evidence['content'];
    const startsMiner =
      isMiningFinding(f) || (typeof content === 'string' && exes.some((e) => content.includes(e)));
    if (startsMiner && typeof file === 'string' && file.startsWith('/') && file.length <= 4096) {
      const e: PersistenceEntry = { file };
      if (typeof line === 'number' && Number.isInteger(line) && line >= 1) e.line = line;
      if (typeof content === 'string') e.content = content.slice(0, 4000);
      persistence.set(`${file}:${e.line ?? ''}`, e);
    }
  }
  return { targets: [...procs.values()].slice(0, 16), persistence: [...persistence.values()].slice(0, 100) };
}

export interface ResponseOptions {
  engine: CaseEngine;
  store: Store;
  /** How long a verified eradication is watched (default 30 min). */
  watchMs?: number;
  /** Releases the host's isolation once the watch ends quietly (the server's responder). */
  releaseIsolation?: (hostId: string, why: string) => Promise<void>;
  log?: (message: string, err?: unknown) => void;
}

export class IncidentResponse {
  readonly #o: ResponseOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: ResponseOptions) {
    this.#o = o;
  }

  get watchMs(): number {
    return this.#o.watchMs ?? DEFAULT_WATCH_MS;
  }

  /** Checks the watches every `everyMs` (and picks up watches of eradications finished before a restart). */
  start(everyMs = 30_000): void {
    this.#timer = setInterval(() => {
      this.tick().catch((e) => this.#o.log?.('watch check failed', e));
    }, everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #incidentWithHost(
    id: string,
  ): Promise<{ incident: IncidentRecord; hostId: string; hostName: string }> {
    const incident = await this.#o.engine.get(id);
    if (incident.hostName === null)
      throw new CaseError('CASE_UNPROCESSABLE', 'the incident names no host yet: nothing to collect from', {
        location: 'id',
      });
    if (incident.phase === 'closed')
      throw new CaseError('CASE_BAD_MOVE', 'the incident is closed; reopen it first', { location: 'id' });
    const host = await this.#o.store.getHostByName(incident.hostName);
    if (!host?.agent)
      throw new CaseError('CASE_UNPROCESSABLE', `${incident.hostName} has no deminer agent to do it`, {
        location: 'id',
      });
    return { incident, hostId: host.id, hostName: host.name };
  }

  async #findings(incidentId: string): Promise<Finding[]> {
    const fps = (await this.#o.store.incidents.linkedFindings(incidentId)).slice(-MAX_FINDINGS_READ);
    const out: Finding[] = [];
    for (const fp of fps) {
      const s = await this.#o.store.getFinding(fp);
      if (s) out.push(s.finding);
    }
    return out;
  }

  /** Queues evidence collection on the incident's host. */
  async collect(
    incidentId: string,
    req: { pid?: number; include?: CollectParams['include']; memory_max_bytes?: number },
    actor: string,
  ): Promise<TaskRecord> {
    const { hostId, hostName } = await this.#incidentWithHost(incidentId);
    const t = targetsOf(await this.#findings(incidentId), req.pid);
    if (req.pid !== undefined && t.targets.length === 0) t.targets.push({ pid: req.pid });
    const params = CollectParamsSchema.parse({
      ...t,
      ...(req.include ? { include: req.include } : {}),
      ...(req.memory_max_bytes === undefined ? {} : { memory_max_bytes: req.memory_max_bytes }),
    });
    const task = await this.#o.store.tasks.create({
      hostId,
      hostName,
      incidentId,
      kind: 'collect',
      params,
      requestedBy: actor,
    });
    await this.#o.engine.action(
      incidentId,
      'evidence.requested',
      {
        task: task.id,
        targets: params.targets,
        persistence: params.persistence.length,
        include: params.include,
      },
      actor,
    );
    return task;
  }

  /** Queues eradication on the incident's host and moves the incident to `eradication` when it is before it. */
  async eradicate(
    incidentId: string,
    req: { pid?: number; steps?: EradicateStep[]; watch_s?: number },
    actor: string,
  ): Promise<TaskRecord> {
    const { incident, hostId, hostName } = await this.#incidentWithHost(incidentId);
    const t = targetsOf(await this.#findings(incidentId), req.pid);
    if (req.pid !== undefined && t.targets.length === 0) t.targets.push({ pid: req.pid });
    if (t.targets.length === 0 && t.persistence.length === 0)
      throw new CaseError('CASE_UNPROCESSABLE', 'the incident names no process and no persistence entry', {
        location: 'pid',
      });
    const params: EradicateParams = EradicateParamsSchema.parse({
      ...t,
      steps: req.steps ?? ['suspend', 'kill', 'quarantine', 'remove_persistence'],
      ...(req.watch_s === undefined ? {} : { watch_s: req.watch_s }),
    });
    if (['discovery', 'isolation', 'forensics'].includes(incident.phase))
      await this.#o.engine.move(incidentId, 'eradication', actor, 'eradication requested');
    const task = await this.#o.store.tasks.create({
      hostId,
      hostName,
      incidentId,
      kind: 'eradicate',
      params,
      requestedBy: actor,
    });
    await this.#o.engine.action(
      incidentId,
      'eradication.requested',
      { task: task.id, steps: params.steps, targets: params.targets, persistence: params.persistence },
      actor,
    );
    return task;
  }

  /** The agent ended a task: every step on the timeline; a verified eradication starts the watch. */
  async onTaskEnded(task: TaskRecord, result: TaskResult): Promise<void> {
    if (task.incidentId === null) return;
    const actor = `agent:${task.hostName}`;
    for (const s of result.steps.slice(0, 100)) {
      await this.#o.engine.action(
        task.incidentId,
        `${task.kind === 'collect' ? 'evidence' : 'eradication'}.${s.step}`,
        { task: task.id, ...s },
        actor,
      );
    }
    const verified = result.ok && result.steps.every((s) => s.ok && s.verified);
    const watchS = task.params['watch_s'];
    const watchMs = typeof watchS === 'number' && watchS > 0 ? watchS * 1000 : this.watchMs;
    await this.#o.engine.action(
      task.incidentId,
      task.kind === 'collect' ? 'evidence.collected' : 'eradication.done',
      {
        task: task.id,
        ok: result.ok,
        verified,
        evidence: result.evidence,
        ...(result.error ? { error: result.error } : {}),
        ...(task.kind === 'eradicate' && verified
          ? { watch_until: new Date(Date.now() + watchMs).toISOString() }
          : {}),
      },
      actor,
    );
    if (task.kind === 'eradicate' && verified) {
      // Kept in the store: a restart, or another server on the same database, keeps watching.
      await this.#o.store.tasks.startWatch(task.id, {
        since: task.finishedAt ?? this.#o.engine.nowIso(),
        until: new Date(Date.now() + watchMs).toISOString(),
        killed: result.steps
          .filter((s) => s.step === 'kill' && s.ok)
          .map((s) => Number(/^pid (\d+)$/.exec(s.target ?? '')?.[1]))
          .filter((n) => Number.isInteger(n)),
      });
    }
  }

  /**
   * A finding joined an open incident: during a watch, a mining finding or a
   * persistence entry (a finding naming a file) means the miner came back;
   * the incident goes back to eradication and the watch ends.
   */
  async onJoined(incidentId: string, findings: readonly Finding[]): Promise<void> {
    const telling = findings.filter((f) => isMiningFinding(f) || typeof f.evidence['file'] === 'string');
    if (telling.length === 0) return;
    const task = await this.#o.store.tasks.activeWatch(incidentId, new Date().toISOString());
    const w = task?.watch;
    if (!task || !w) return;
    // A scan that overlapped the clean-up reports what it saw before it: not a return.
    const f = telling.find(
      (x) => x['@timestamp'] > w.since && !(x.process?.pid !== undefined && w.killed.includes(x.process.pid)),
    );
    if (!f) return;
    const persistence = typeof f.evidence['file'] === 'string';
    const incident = { id: incidentId };
    // Once, whichever server saw it first.
    if (!(await this.#o.store.tasks.endWatch(task.id, this.#o.engine.nowIso(), 'returned'))) return;
    await this.#o.engine.action(
      incident.id,
      'eradication.returned',
      {
        task: task.id,
        fingerprint: f.fingerprint,
        rule_id: f.rule.id,
        message: f.message.slice(0, 500),
        what: persistence ? 'persistence' : 'miner',
      },
      'auto:watch',
    );
    const current = await this.#o.engine.get(incident.id);
    if (current.phase === 'eradication' || current.phase === 'closed') return;
    // The one move backwards: the clean-up did not hold.
    await this.#o.store.incidents.move(incident.id, {
      from: current.phase,
      to: 'eradication',
      at: this.#o.engine.nowIso(),
      actor: 'auto:watch',
      note: `the ${persistence ? 'persistence' : 'miner'} came back during the watch (${f.rule.id})`,
      clocks: clocksOf(current),
    });
  }

  /** Ends watches whose time is up: nothing came back, so the incident moves on to recovery and the host is released. */
  async tick(now = Date.now()): Promise<void> {
    const at = new Date(now).toISOString();
    for (const task of await this.#o.store.tasks.dueWatches(at, 100)) {
      if (task.incidentId === null) continue;
      // Once, whichever server gets there first.
      if (!(await this.#o.store.tasks.endWatch(task.id, at, 'quiet'))) continue;
      await this.#o.engine.action(
        task.incidentId,
        'eradication.watch_ended',
        { task: task.id, returned: false },
        'auto:watch',
      );
      const incident = await this.#o.engine.get(task.incidentId);
      if (incident.phase === 'eradication')
        await this.#o.engine.move(
          task.incidentId,
          'recovery',
          'auto:watch',
          'nothing came back during the watch',
        );
      if (this.#o.releaseIsolation) {
        try {
          await this.#o.releaseIsolation(task.hostId, `incident ${task.incidentId}: recovery`);
        } catch (e) {
          this.#o.log?.(`release of ${task.hostName} at recovery failed`, e);
        }
      }
    }
  }

  /** The incident's watch in force (the API). */
  async watching(incidentId: string): Promise<{ until: string; task: string } | undefined> {
    const task = await this.#o.store.tasks.activeWatch(incidentId, new Date().toISOString());
    return task?.watch ? { until: task.watch.until, task: task.id } : undefined;
  }
}
