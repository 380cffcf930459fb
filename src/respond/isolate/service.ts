import { networkInterfaces } from 'node:os';
import { DeminerError } from '../../core/errors.ts';
import type { Finding } from '../../core/finding.ts';
import type {
  HostRecord,
  IsolationPatch,
  IsolationRecord,
  IsolationStateName,
  Store,
} from '../../store/types.ts';
import type { IsolationDirective, IsolationReport } from './agent-protocol.ts';
import { nftablesBackend } from './nftables/index.ts';
import { decide, type PolicyDecision, pickTarget } from './policy.ts';
import { type IsolationResult, runIsolation } from './run.ts';
import { canonicalCidr, localInfrastructure, type ProtectedEntry, protectingEntry } from './safety.ts';
import { AGENT_NFTABLES, type IsolationSettings, type ServerBackendName } from './server-config.ts';
import { canonicalAddress, parseTarget } from './target.ts';
import type { Exchange, IsolationBackend, IsolationTarget, Step } from './types.ts';

/**
 * The server's responder (`deminer serve|up`): turns requests (a person
 * through the API, the automatic policy on ingested findings) into
 * isolations, runs them through the backends with `runIsolation` (retries
 * with backoff, never done unless read back), records every step in the
 * isolation's action log (which the store copies to the audit log),
 * releases at expiry, and hands agent hosts their firewall directive at
 * heartbeat (`agent-nftables`). State lives in the store, so a restart
 * resumes what was under way, and several servers on one database move
 * an isolation only by compare-and-set.
 *
 *   requested ──approve──► applying ──verified──► isolated ──release/expiry──► releasing ──► released
 *       │ (pending)            └──failed──► failed ──retry──► applying              └──failed──► failed
 */

export interface ServiceLog {
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

export interface IsolationServiceOptions {
  store: Store;
  settings: IsolationSettings;
  /** Told of every change of an isolation (the live stream). */
  publish?: (r: IsolationRecord) => void;
  log?: ServiceLog;
  /** Addresses of this server besides its interfaces' (its listen address, the config's). */
  serverAddresses?: readonly string[];
  /** Protect this host's own gateways and DNS servers too (default true). */
  localInfrastructure?: boolean;
  /** How often expiry, stalled work and agent time-outs are looked at (default 1 s). */
  tickMs?: number;
  now?: () => number;
}

export type IsolationErrorStatus = 404 | 409 | 422 | 403;

/** A request the responder refuses: the API answers it with `status`, naming `field`. */
export class IsolationRequestError extends DeminerError {
  readonly status: IsolationErrorStatus;
  readonly field: string | undefined;

  constructor(code: string, status: IsolationErrorStatus, message: string, field?: string) {
    super(code, message, field === undefined ? {} : { location: field });
    this.name = 'IsolationRequestError';
    this.status = status;
    this.field = field;
  }
}

export interface IsolateRequest {
  hostId: string;
  backend?: string;
  /** The address to isolate (default: the host's one routable address). */
  address?: string;
  reason?: string;
  ttlS?: number;
  dryRun?: boolean;
  actor: { id: string; name: string };
}

export type IsolateOutcome =
  | {
      kind: 'planned';
      backend: string;
      hostId: string;
      target: IsolationTarget;
      plan: Step[];
      approvalRequired: boolean;
    }
  | { kind: 'record'; record: IsolationRecord; created: boolean };

/** Network work left in one of these for this long (its server died mid-way) is taken up again. */
const STALLED_MS = 10 * 60_000;
/** Policy refusals (a protected host's findings keep coming) are audited once per host and finding this often. */
const REFUSAL_QUIET_MS = 3600_000;

const errorOf = (e: unknown): { code: string; message: string } =>
  e instanceof DeminerError
    ? { code: e.code, message: e.message }
    : { code: 'ISOLATE_INTERNAL', message: e instanceof Error ? e.message : String(e) };

export class IsolationService {
  readonly #store: Store;
  readonly #s: IsolationSettings;
  readonly #publish: (r: IsolationRecord) => void;
  readonly #log: ServiceLog;
  readonly #serverAddresses: readonly string[];
  readonly #localInfra: boolean;
  readonly #tickMs: number;
  readonly #now: () => number;
  readonly #inflight = new Map<string, Promise<void>>();
  readonly #abort = new AbortController();
  readonly #queue: { finding: Finding; decision: PolicyDecision }[] = [];
  readonly #refused = new Map<string, number>();
  /** The address each agent host's last heartbeat came from (a tie-breaker between its addresses). */
  readonly #via = new Map<string, string>();
  #draining: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #startedAt = 0;
  #resumed = false;
  #stopped = false;

  constructor(o: IsolationServiceOptions) {
    this.#store = o.store;
    this.#s = o.settings;
    this.#publish = o.publish ?? (() => {});
    this.#log = o.log ?? { info() {}, warn() {}, error() {} };
    this.#serverAddresses = o.serverAddresses ?? [];
    this.#localInfra = o.localInfrastructure !== false;
    this.#tickMs = o.tickMs ?? 1000;
    this.#now = o.now ?? Date.now;
  }

  /** Backend names a request may give. */
  get backends(): ServerBackendName[] {
    return [...this.#s.network.keys(), ...(this.#s.agent ? [AGENT_NFTABLES] : [])] as ServerBackendName[];
  }

  get settings(): IsolationSettings {
    return this.#s;
  }

  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#startedAt = this.#now();
    this.#timer = setInterval(() => {
      this.#ticking ??= this.tick()
        .catch((e: unknown) => this.#log.error('isolation: tick failed', { err: errorOf(e) }))
        .finally(() => {
          this.#ticking = undefined;
        });
    }, this.#tickMs);
    this.#timer.unref();
  }

  /** Stops the timer, cancels what is in flight (it stays in the store and resumes on the next start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
    await this.#ticking;
    await this.#draining;
    await Promise.allSettled([...this.#inflight.values()]);
  }

  /** Until the policy queue is empty and nothing runs (tests). */
  async idle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await this.#draining;
      await this.#ticking;
      const busy = [...this.#inflight.values()];
      if (busy.length === 0 && this.#queue.length === 0 && !this.#draining) return;
      await Promise.allSettled(busy);
    }
  }

  // ---- safety ------------------------------------------------------------------------------

  /**
   * The never-isolate list as it stands now: the configured entries, this
   * server's own addresses (every interface's, and the ones it was told),
   * and this host's gateways and DNS servers. Nothing a request says removes one.
   */
  protectedEntries(): ProtectedEntry[] {
    const out: ProtectedEntry[] = [...this.#s.neverIsolate];
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) {
        const c = canonicalAddress(a.address.split('%')[0] ?? '');
        if (c)
          out.push({
            cidr: `${c.ip}/${c.family === 4 ? 32 : 128}`,
            source: "this deminer server's own address",
          });
      }
    for (const a of this.#serverAddresses) {
      const cidr = canonicalCidr(a);
      if (cidr) out.push({ cidr, source: "this deminer server's address (its configuration)" });
    }
    if (this.#localInfra) out.push(...localInfrastructure());
    return out;
  }

  #refuseProtected(target: IsolationTarget): void {
    const hit = protectingEntry(target, this.protectedEntries());
    if (hit)
      throw new IsolationRequestError(
        'ISOLATE_PROTECTED',
        422,
        `refused: ${target.ip} is on the never-isolate list (entry ${hit.cidr} from ${hit.source}); no request overrides it`,
        'address',
      );
  }

  // ---- requests ----------------------------------------------------------------------------

  #backendName(requested: string | undefined, host: HostRecord): ServerBackendName {
    const configured = this.backends;
    if (configured.length === 0)
      throw new IsolationRequestError(
        'ISOLATE_NOT_CONFIGURED',
        422,
        'isolation is not configured on this server: give serve/up --isolate-backend, or respond.isolation.backends in the config file',
        'backend',
      );
    const name = requested ?? this.#s.defaultBackend;
    if (name === undefined)
      throw new IsolationRequestError(
        'ISOLATE_NO_BACKEND',
        422,
        `several backends are configured (${configured.join(', ')}) and none is the default: name one (backend)`,
        'backend',
      );
    if (!(configured as string[]).includes(name))
      throw new IsolationRequestError(
        'ISOLATE_UNKNOWN_BACKEND',
        422,
        `backend ${JSON.stringify(name.slice(0, 40))} is not configured on this server (configured: ${configured.join(', ')})`,
        'backend',
      );
    if (name === AGENT_NFTABLES && !host.agent)
      throw new IsolationRequestError(
        'ISOLATE_NO_AGENT',
        422,
        `${host.name} has no agent: ${AGENT_NFTABLES} isolates a host on its own firewall through its agent; use a network backend (${configured.filter((b) => b !== AGENT_NFTABLES).join(', ') || 'none configured'})`,
        'backend',
      );
    return name as ServerBackendName;
  }

  #target(host: HostRecord, address: string | undefined, finding?: Finding): IsolationTarget {
    if (address !== undefined) {
      try {
        return parseTarget(address);
      } catch (e) {
        throw new IsolationRequestError('ISOLATE_BAD_TARGET', 422, errorOf(e).message, 'address');
      }
    }
    const t = pickTarget(host, finding, this.#via.get(host.id));
    if ('error' in t) throw new IsolationRequestError('ISOLATE_NO_ADDRESS', 422, t.error, 'address');
    return parseTarget(t.ip);
  }

  /** What the agent is told to let through: the configured addresses and the server's own, as it was told them. */
  #agentAllow(): string[] {
    const out = new Set<string>(this.#s.agent?.allow ?? []);
    for (const a of this.#serverAddresses) if (canonicalCidr(a)) out.add(a);
    return [...out];
  }

  #plan(backend: ServerBackendName, target: IsolationTarget): Step[] {
    if (backend !== AGENT_NFTABLES) return this.#network(backend).plan('isolate', target);
    // What the agent will run on its host (it adds the address it reaches this server at).
    const allow = this.#agentAllow();
    return nftablesBackend({
      allow: allow.length > 0 ? allow : ['127.0.0.1'],
      dns: this.#s.agent?.dns ?? [],
    }).plan('isolate', target);
  }

  #network(name: string): IsolationBackend {
    const b = this.#s.network.get(name as never);
    if (!b)
      throw new IsolationRequestError(
        'ISOLATE_UNKNOWN_BACKEND',
        422,
        `backend ${name} is not configured`,
        'backend',
      );
    return b;
  }

  #ttlS(ttlS: number | undefined): number | undefined {
    if (ttlS !== undefined) return ttlS;
    return this.#s.ttlMs === undefined ? undefined : Math.max(1, Math.round(this.#s.ttlMs / 1000));
  }

  /** `POST /hosts/{id}/isolate`: a person's request (dry run, approval, or at once). */
  async request(r: IsolateRequest): Promise<IsolateOutcome> {
    const host = await this.#store.getHost(r.hostId);
    if (!host) throw new IsolationRequestError('DEMINER_NOT_FOUND', 404, 'no host has this id', 'id');
    const backend = this.#backendName(r.backend, host);
    const target = this.#target(host, r.address);
    this.#refuseProtected(target);
    const approvalRequired = this.#s.policy.requireApproval;
    if (r.dryRun)
      return {
        kind: 'planned',
        backend,
        hostId: host.id,
        target,
        plan: this.#plan(backend, target),
        approvalRequired,
      };
    const current = await this.#store.currentIsolation(host.id);
    if (current && current.state !== 'released') {
      if (current.state === 'failed') {
        if (current.backend !== backend)
          throw new IsolationRequestError(
            'ISOLATE_CONFLICT',
            409,
            `${host.name} has a failed isolation through ${current.backend}: release it first to use ${backend}`,
            'backend',
          );
        await this.#action(current, 'request', r.actor.name, 'ok', {
          retry: true,
          backend,
          target: current.target ?? target.ip,
          requested_by_id: r.actor.id,
        });
        return {
          kind: 'record',
          record: await this.#start(current, 'isolate', r.actor.name),
          created: false,
        };
      }
      if (current.state === 'releasing')
        throw new IsolationRequestError(
          'ISOLATE_CONFLICT',
          409,
          `${host.name}'s isolation is being released; ask again once it is released`,
          'id',
        );
      // Requested, applying or isolated: isolating twice is the same isolation.
      return { kind: 'record', record: current, created: false };
    }
    const ttlS = this.#ttlS(r.ttlS);
    let record: IsolationRecord;
    try {
      record = await this.#store.createIsolation({
        hostId: host.id,
        hostName: host.name,
        backend,
        target: target.ip,
        requestedBy: r.actor.name,
        requestedById: r.actor.id,
        ...(r.reason === undefined ? {} : { reason: r.reason }),
        approval: approvalRequired ? 'pending' : 'not_required',
        ...(ttlS === undefined ? {} : { ttlS }),
        at: this.#iso(),
      });
    } catch (e) {
      if (e instanceof DeminerError && e.code === 'STORE_ISOLATION_ACTIVE') {
        const now = await this.#store.currentIsolation(host.id);
        if (now) return { kind: 'record', record: now, created: false };
      }
      throw e;
    }
    await this.#action(record, 'request', r.actor.name, 'ok', {
      backend,
      target: target.ip,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      ...(ttlS === undefined ? {} : { ttl_s: ttlS }),
      approval: record.approval,
      requested_by_id: r.actor.id,
    });
    this.#publish(record);
    if (record.approval === 'pending') return { kind: 'record', record, created: true };
    return { kind: 'record', record: await this.#start(record, 'isolate', r.actor.name), created: true };
  }

  /** `POST /isolations/{id}/approve`. */
  async approve(id: string, actor: { id: string; name: string }): Promise<IsolationRecord> {
    const rec = await this.#store.getIsolation(id);
    if (!rec) throw new IsolationRequestError('DEMINER_NOT_FOUND', 404, 'no isolation has this id', 'id');
    if (rec.state !== 'requested' || rec.approval !== 'pending')
      throw new IsolationRequestError(
        'ISOLATE_NOT_PENDING',
        409,
        `this isolation waits for no approval (it is ${rec.state}, approval ${rec.approval})`,
        'id',
      );
    const at = this.#iso();
    const approved = await this.#store.updateIsolation(
      id,
      { approval: 'approved', approvedBy: actor.name, approvedAt: at, at },
      ['requested'],
    );
    if (!approved || approved.approval !== 'approved')
      throw new IsolationRequestError('ISOLATE_NOT_PENDING', 409, 'this isolation changed meanwhile', 'id');
    await this.#action(approved, 'approve', actor.name, 'ok', { approved_by_id: actor.id });
    this.#publish(approved);
    return this.#start(approved, 'isolate', actor.name);
  }

  /** `POST /hosts/{id}/release` (and expiry): undoes the host's isolation, or withdraws a request. */
  async release(
    hostId: string,
    actor: { id?: string; name: string },
    why = 'release',
  ): Promise<IsolationRecord> {
    const host = await this.#store.getHost(hostId);
    if (!host) throw new IsolationRequestError('DEMINER_NOT_FOUND', 404, 'no host has this id', 'id');
    const current = await this.#store.currentIsolation(host.id);
    if (!current)
      throw new IsolationRequestError('DEMINER_NOT_FOUND', 404, `${host.name} was never isolated`, 'id');
    if (current.state === 'released') return current;
    // What is being sent now finishes first: a release must not race the apply it undoes.
    await this.#inflight.get(current.id);
    const rec = (await this.#store.getIsolation(current.id)) ?? current;
    if (rec.state === 'released') return rec;
    if (rec.state === 'requested') {
      // Nothing was sent for it: withdrawn, not undone.
      const at = this.#iso();
      const done = await this.#store.updateIsolation(
        rec.id,
        { state: 'released', releasedAt: at, releasedBy: actor.name, at },
        ['requested'],
      );
      if (done) {
        await this.#action(done, 'withdraw', actor.name, 'ok', { note: 'released before anything was sent' });
        this.#publish(done);
        return done;
      }
    }
    if (rec.state === 'releasing') return rec;
    if (rec.backend === AGENT_NFTABLES && rec.state === 'failed' && rec.failedAction === 'isolate') {
      // The agent never put its table in place (or never said so): nothing to wait for. Without a
      // directive at its next heartbeat, an agent that did apply it drops it on its own.
      const at = this.#iso();
      const done = await this.#store.updateIsolation(
        rec.id,
        { state: 'released', releasedAt: at, releasedBy: actor.name, at },
        ['failed'],
      );
      if (done) {
        await this.#action(done, why, actor.name, 'ok', {
          note: 'the isolation had failed; the agent drops any table of it at its next heartbeat',
        });
        this.#publish(done);
        return done;
      }
    }
    await this.#action(rec, why, actor.name, 'ok', actor.id === undefined ? {} : { by_id: actor.id });
    return this.#start(rec, 'release', actor.name);
  }

  // ---- running -------------------------------------------------------------------------------

  /** Moves the isolation to applying/releasing (compare-and-set) and runs it in the background. */
  async #start(rec: IsolationRecord, action: 'isolate' | 'release', actor: string): Promise<IsolationRecord> {
    // Compare-and-set: of two callers (a request and the timer, two servers) one moves it, one runs it.
    const from: IsolationStateName[] =
      action === 'isolate' ? ['requested', 'failed'] : ['isolated', 'failed', 'applying'];
    const at = this.#iso();
    const moved = await this.#store.updateIsolation(
      rec.id,
      action === 'isolate' ? { state: 'applying', at } : { state: 'releasing', releasedBy: actor, at },
      from,
    );
    if (!moved) return (await this.#store.getIsolation(rec.id)) ?? rec;
    this.#publish(moved);
    if (moved.backend === AGENT_NFTABLES) {
      await this.#action(moved, action === 'isolate' ? 'apply' : 'release-requested', actor, 'ok', {
        note: `the agent of ${moved.hostName} ${action === 'isolate' ? 'applies' : 'removes'} the nftables table at its next heartbeat and reports back`,
      });
      return moved;
    }
    this.#runInBackground(moved, action, actor);
    return moved;
  }

  #runInBackground(rec: IsolationRecord, action: 'isolate' | 'release', actor: string): void {
    if (this.#inflight.has(rec.id) || this.#stopped) return;
    const p = this.#runNetwork(rec, action, actor)
      .catch((e: unknown) => this.#log.error('isolation: run failed', { id: rec.id, err: errorOf(e) }))
      .finally(() => this.#inflight.delete(rec.id));
    this.#inflight.set(rec.id, p);
  }

  async #runNetwork(rec: IsolationRecord, action: 'isolate' | 'release', actor: string): Promise<void> {
    const backend = this.#network(rec.backend);
    let target: IsolationTarget;
    try {
      target = parseTarget(rec.target ?? '');
    } catch (e) {
      await this.#finish(rec, action, actor, undefined, errorOf(e));
      return;
    }
    // Steps are logged as they complete, in order, each also in the audit log.
    let chain = Promise.resolve();
    const log = (kind: string, outcome: string, detail: Record<string, unknown>, at?: string) => {
      chain = chain.then(() =>
        this.#action(rec, kind, 'server', outcome, detail, at).catch((e: unknown) =>
          this.#log.error('isolation: action log write failed', { id: rec.id, err: errorOf(e) }),
        ),
      );
    };
    log(action === 'isolate' ? 'apply' : 'release', 'ok', {
      backend: rec.backend,
      target: target.ip,
      by: actor,
      retries: this.#s.retries,
    });
    let result: IsolationResult | undefined;
    let failure: { code: string; message: string } | undefined;
    try {
      result = await runIsolation(action, backend, target, {
        retries: this.#s.retries,
        backoffMs: this.#s.backoffMs,
        timeoutMs: this.#s.timeoutMs,
        ...(this.#s.settleMs === undefined ? {} : { settleMs: this.#s.settleMs }),
        // The last guard: even a record written before an entry was added is refused.
        ...(action === 'isolate' ? { protect: this.protectedEntries() } : {}),
        signal: this.#abort.signal,
        onExchange: (e) => log('exchange', exchangeOutcome(e), exchangeDetail(e), e.at),
        onRetry: (attempt, err, waitMs) =>
          log('retry', err.code, { attempt, code: err.code, message: err.message, wait_ms: waitMs }),
      });
    } catch (e) {
      failure = errorOf(e);
    }
    await chain;
    if (this.#abort.signal.aborted && !result?.ok) return; // shutting down: resumed at the next start
    await this.#finish(rec, action, actor, result, failure);
  }

  async #finish(
    rec: IsolationRecord,
    action: 'isolate' | 'release',
    actor: string,
    result: IsolationResult | undefined,
    failure: { code: string; message: string } | undefined,
  ): Promise<void> {
    const at = this.#iso();
    const error = failure ?? result?.error;
    const ok = result?.ok === true && error === undefined;
    if (result?.verification)
      await this.#action(rec, 'verify', 'server', ok ? 'ok' : (error?.code ?? 'failed'), {
        outcome: result.outcome,
        attempts: result.attempts,
        verification: result.verification,
        timings: result.timings,
      });
    const patch: IsolationPatch = {
      at,
      addAttempts: result?.attempts ?? 0,
      ...(result?.verification ? { verification: { ...result.verification } } : {}),
    };
    let next: IsolationRecord | undefined;
    const from: IsolationStateName[] = [action === 'isolate' ? 'applying' : 'releasing'];
    if (ok) {
      next = await this.#store.updateIsolation(
        rec.id,
        action === 'isolate'
          ? {
              ...patch,
              state: 'isolated',
              isolatedAt: at,
              lastError: null,
              failedAction: null,
              ...(rec.ttlS === undefined
                ? {}
                : { expiresAt: new Date(Date.parse(at) + rec.ttlS * 1000).toISOString() }),
            }
          : {
              ...patch,
              state: 'released',
              releasedAt: at,
              releasedBy: actor,
              lastError: null,
              failedAction: null,
            },
        from,
      );
      this.#log.info(`isolation: ${rec.hostName} ${action === 'isolate' ? 'isolated' : 'released'}`, {
        id: rec.id,
        backend: rec.backend,
        target: rec.target,
        attempts: result?.attempts,
        to_verified_ms: result?.timings.to_verified_ms,
      });
    } else {
      const err = error ?? { code: 'ISOLATE_FAILED', message: 'failed' };
      await this.#action(rec, 'error', 'server', err.code, { action, ...err });
      next = await this.#store.updateIsolation(
        rec.id,
        { ...patch, state: 'failed', failedAction: action, lastError: err },
        from,
      );
      this.#log.warn(`isolation: ${action} of ${rec.hostName} failed: ${err.code}: ${err.message}`, {
        id: rec.id,
      });
    }
    if (next) this.#publish(next);
  }

  // ---- the agent path --------------------------------------------------------------------------

  /** An agent's heartbeat came from this address. */
  noteHeartbeat(hostId: string, ip: string): void {
    if (this.#via.size > 100_000 && !this.#via.has(hostId)) this.#via.clear();
    this.#via.set(hostId, ip);
  }

  /** What an agent host is told at heartbeat: have the table in place, or have it gone. */
  async directiveFor(hostId: string): Promise<IsolationDirective | undefined> {
    const rec = await this.#store.currentIsolation(hostId);
    if (!rec || rec.backend !== AGENT_NFTABLES) return undefined;
    let action: 'isolate' | 'release' | undefined;
    if (rec.state === 'applying' || rec.state === 'isolated') action = 'isolate';
    else if (rec.state === 'releasing') action = 'release';
    if (!action) return undefined;
    return {
      id: rec.id,
      action,
      allow: this.#agentAllow(),
      ...(this.#s.agent?.dns ? { dns: this.#s.agent.dns } : {}),
      ...(rec.expiresAt ? { expires_at: rec.expiresAt } : {}),
    };
  }

  /** `POST /hosts/{id}/isolation/report`: the agent applied (or removed) its table, or could not. */
  async report(hostId: string, r: IsolationReport): Promise<IsolationRecord> {
    const rec = await this.#store.getIsolation(r.isolation_id);
    if (!rec || rec.hostId !== hostId)
      throw new IsolationRequestError(
        'DEMINER_NOT_FOUND',
        404,
        'no isolation of this host has this id',
        'isolation_id',
      );
    const actor = `agent:${rec.hostName}`;
    for (const e of r.exchanges ?? []) {
      const ex = e as unknown as Exchange;
      await this.#action(
        rec,
        'exchange',
        actor,
        exchangeOutcome(ex),
        exchangeDetail(ex),
        isoOr(e.at, this.#iso()),
      );
    }
    await this.#action(rec, 'report', actor, r.ok ? 'ok' : (r.error?.code ?? 'failed'), {
      action: r.action,
      outcome: r.outcome,
      attempts: r.attempts,
      ...(r.trigger ? { trigger: r.trigger } : {}),
      ...(r.verification ? { verification: r.verification } : {}),
      ...(r.error ? { error: r.error } : {}),
      ...(r.timings ? { timings: r.timings } : {}),
    });
    const at = this.#iso();
    const base: IsolationPatch = {
      at,
      addAttempts: r.attempts,
      ...(r.verification ? { verification: r.verification } : {}),
    };
    let next: IsolationRecord | undefined;
    if (r.action === 'isolate') {
      next = r.ok
        ? await this.#store.updateIsolation(
            rec.id,
            {
              ...base,
              state: 'isolated',
              lastError: null,
              failedAction: null,
              ...(rec.state === 'isolated'
                ? {}
                : {
                    isolatedAt: at,
                    ...(rec.ttlS === undefined
                      ? {}
                      : { expiresAt: new Date(Date.parse(at) + rec.ttlS * 1000).toISOString() }),
                  }),
            },
            ['applying', 'failed', 'isolated'],
          )
        : await this.#store.updateIsolation(
            rec.id,
            {
              ...base,
              state: 'failed',
              failedAction: 'isolate',
              lastError: r.error ?? { code: 'ISOLATE_FAILED', message: r.outcome },
            },
            ['applying', 'isolated'],
          );
    } else {
      next = r.ok
        ? await this.#store.updateIsolation(
            rec.id,
            { ...base, state: 'released', releasedAt: at, lastError: null, failedAction: null },
            ['releasing', 'failed'],
          )
        : await this.#store.updateIsolation(
            rec.id,
            {
              ...base,
              state: 'failed',
              failedAction: 'release',
              lastError: r.error ?? { code: 'RELEASE_FAILED', message: r.outcome },
            },
            ['releasing'],
          );
    }
    if (next) {
      this.#publish(next);
      return next;
    }
    return (await this.#store.getIsolation(rec.id)) ?? rec;
  }

  // ---- the policy ------------------------------------------------------------------------------

  /**
   * Called once ingest stored a batch: queues what the policy names and
   * returns at once (ingest is not slowed; the decision runs after it).
   */
  onFindings(findings: readonly Finding[]): void {
    const p = this.#s.policy;
    if ((!p.auto && !p.approval) || this.#stopped) return;
    const seen = new Set<string>();
    for (const f of findings) {
      const d = decide(f, p);
      if (!d) continue;
      // One decision per host and mode per batch: the strongest finding is enough.
      const key = `${f.host.name}\u0000${d.mode}`;
      if (seen.has(key)) continue;
      seen.add(key);
      this.#queue.push({ finding: f, decision: d });
    }
    if (this.#queue.length > 0) this.#drain();
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = (async () => {
      // Auto first: an approval request for the same host must not hold an isolation up.
      while (this.#queue.length > 0 && !this.#stopped) {
        const i = this.#queue.findIndex((q) => q.decision.mode === 'auto');
        const [next] = this.#queue.splice(i < 0 ? 0 : i, 1);
        if (!next) break;
        try {
          await this.#decide(next.finding, next.decision);
        } catch (e) {
          this.#log.error('isolation: policy decision failed', {
            host: next.finding.host.name,
            err: errorOf(e),
          });
        }
      }
    })().finally(() => {
      this.#draining = undefined;
      if (this.#queue.length > 0 && !this.#stopped) this.#drain();
    });
  }

  async #decide(f: Finding, d: PolicyDecision): Promise<void> {
    const host = await this.#store.getHostByName(f.host.name);
    if (!host) return;
    const current = await this.#store.currentIsolation(host.id);
    if (current && current.state !== 'released') {
      // A request waiting for approval that the policy now isolates outright: approve it by policy.
      if (d.mode === 'auto' && current.state === 'requested' && current.approval === 'pending') {
        const at = this.#iso();
        const approved = await this.#store.updateIsolation(
          current.id,
          { approval: 'approved', approvedBy: `policy:${d.rule}`, approvedAt: at, at },
          ['requested'],
        );
        if (approved) {
          await this.#action(approved, 'approve', `policy:${d.rule}`, 'ok', {
            fingerprint: d.fingerprint,
            severity: d.severity,
          });
          this.#publish(approved);
          await this.#start(approved, 'isolate', `policy:${d.rule}`);
        }
      }
      return;
    }
    // Released once for this finding (by a person or at expiry): the policy does not undo that decision.
    if (
      (await this.#store.listIsolations({ hostId: host.id, reason: d.fingerprint, limit: 1 })).items.length >
      0
    )
      return;
    const actor = `policy:${d.rule}`;
    let backend: ServerBackendName;
    let target: IsolationTarget;
    try {
      const preferred = this.#s.defaultBackend;
      const network = [...this.#s.network.keys()][0];
      // The default is the host firewall but this host has no agent: the network, when there is one.
      backend = this.#backendName(
        preferred === AGENT_NFTABLES && !host.agent && network ? network : preferred,
        host,
      );
      target = this.#target(host, undefined, f);
      this.#refuseProtected(target);
    } catch (e) {
      const err = errorOf(e);
      const key = `${host.id}\u0000${d.fingerprint}\u0000${err.code}`;
      const last = this.#refused.get(key);
      if (last !== undefined && this.#now() - last < REFUSAL_QUIET_MS) return;
      this.#refused.set(key, this.#now());
      if (this.#refused.size > 10_000) this.#refused.clear();
      await this.#store.audit({
        at: this.#iso(),
        actor,
        action: 'isolation.policy',
        target: host.id,
        outcome: err.code,
        detail: {
          host: host.name,
          mode: d.mode,
          fingerprint: d.fingerprint,
          severity: d.severity,
          message: err.message,
        },
      });
      this.#log.warn(`isolation: policy did not isolate ${host.name}: ${err.message}`);
      return;
    }
    const ttlS = this.#ttlS(undefined);
    let record: IsolationRecord;
    try {
      record = await this.#store.createIsolation({
        hostId: host.id,
        hostName: host.name,
        backend,
        target: target.ip,
        requestedBy: actor,
        reason: d.fingerprint,
        approval: d.mode === 'auto' ? 'not_required' : 'pending',
        ...(ttlS === undefined ? {} : { ttlS }),
        at: this.#iso(),
      });
    } catch (e) {
      if (e instanceof DeminerError && e.code === 'STORE_ISOLATION_ACTIVE') return;
      throw e;
    }
    await this.#action(record, 'request', actor, 'ok', {
      policy: d.mode,
      rule: d.rule,
      severity: d.severity,
      fingerprint: d.fingerprint,
      backend,
      target: target.ip,
      ...(ttlS === undefined ? {} : { ttl_s: ttlS }),
      approval: record.approval,
    });
    this.#publish(record);
    this.#log.info(
      `isolation: policy ${d.mode === 'auto' ? 'isolates' : 'asks to isolate'} ${host.name} (${target.ip}) for ${d.rule} (${d.severity})`,
      { id: record.id },
    );
    if (d.mode === 'auto') await this.#start(record, 'isolate', actor);
  }

  // ---- the timer -------------------------------------------------------------------------------

  /** Expiry, work a dead server left under way, requests not started, agents that never reported. */
  async tick(): Promise<void> {
    if (this.#stopped) return;
    const now = this.#now();
    const iso = new Date(now).toISOString();
    const expired = await this.#store.listIsolations({ state: ['isolated'], expiresBefore: iso, limit: 100 });
    for (const rec of expired.items) {
      if (this.#inflight.has(rec.id)) continue;
      await this.#action(rec, 'expire', 'ttl', 'ok', { expires_at: rec.expiresAt });
      await this.#start(rec, 'release', 'ttl');
    }
    // Approved or policy requests whose run never began (the server stopped in between).
    const ready = await this.#store.listIsolations({ state: ['requested'], limit: 100 });
    for (const rec of ready.items)
      if (rec.approval !== 'pending' && !this.#inflight.has(rec.id))
        await this.#start(rec, 'isolate', 'server');
    const stalledBefore = new Date(this.#resumed ? now - STALLED_MS : this.#startedAt).toISOString();
    this.#resumed = true;
    const under = await this.#store.listIsolations({
      state: ['applying', 'releasing'],
      updatedBefore: stalledBefore,
      limit: 100,
    });
    for (const rec of under.items) {
      if (rec.backend === AGENT_NFTABLES || this.#inflight.has(rec.id)) continue;
      await this.#action(rec, 'resume', 'server', 'ok', { state: rec.state });
      this.#runInBackground(rec, rec.state === 'applying' ? 'isolate' : 'release', 'server');
    }
    const silent = await this.#store.listIsolations({
      state: ['applying', 'releasing'],
      updatedBefore: new Date(now - this.#s.agentReportTimeoutMs).toISOString(),
      limit: 100,
    });
    for (const rec of silent.items) {
      if (rec.backend !== AGENT_NFTABLES) continue;
      const action = rec.state === 'applying' ? 'isolate' : 'release';
      const err = {
        code: 'AGENT_NO_REPORT',
        message: `the agent of ${rec.hostName} did not report its ${action} within ${Math.round(this.#s.agentReportTimeoutMs / 1000)} s (is it running and reaching this server?)`,
      };
      const next = await this.#store.updateIsolation(
        rec.id,
        { state: 'failed', failedAction: action, lastError: err, at: iso },
        [rec.state],
      );
      if (next) {
        await this.#action(next, 'error', 'server', err.code, err);
        this.#publish(next);
      }
    }
  }

  // ---- records ----------------------------------------------------------------------------------

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  async #action(
    rec: IsolationRecord,
    kind: string,
    actor: string,
    outcome: string,
    detail: Record<string, unknown>,
    at?: string,
  ): Promise<void> {
    await this.#store.addIsolationAction({
      isolationId: rec.id,
      hostId: rec.hostId,
      at: at ?? this.#iso(),
      kind,
      actor,
      outcome,
      detail,
    });
  }
}

function isoOr(text: string, fallback: string): string {
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : fallback;
}

function exchangeOutcome(e: Exchange): string {
  if (e.error !== undefined) return 'error';
  const a = e.answer;
  if (a?.status !== undefined) return a.status < 400 ? 'ok' : String(a.status);
  if (a?.exitCode !== undefined) return a.exitCode === 0 ? 'ok' : `exit ${a.exitCode}`;
  return 'ok';
}

/** The request or command as sent (secrets already redacted by the backend) and its answer. */
function exchangeDetail(e: Exchange): Record<string, unknown> {
  return {
    purpose: e.step.purpose,
    step: e.step,
    ms: e.ms,
    ...(e.answer ? { answer: e.answer } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
  };
}
