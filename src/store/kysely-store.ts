import { type Kysely, sql } from 'kysely';
import type { Finding } from '../core/finding.ts';
import type { Severity } from '../core/severity.ts';
import { appendAudit, listAudit } from './audit.ts';
import type { StoreContext } from './context.ts';
import {
  applyOpenDeltas,
  hourOf,
  listSightings,
  OpenDeltas,
  openFindings,
  openFindingsByHost,
} from './counters.ts';
import { acknowledge, activeFindings, getFinding, listFindings, ruleActivity } from './findings.ts';
import { countHosts, getHost, listHosts, upsertHost } from './hosts.ts';
import type { IncidentStore } from './incident-types.ts';
import { incidentStore } from './incidents.ts';
import { IngestQueue } from './ingest-queue.ts';
import {
  addIsolationAction,
  createIsolation,
  currentIsolation,
  getHostByName,
  getIsolation,
  listIsolationActions,
  listIsolations,
  updateIsolation,
} from './isolations.ts';
import { addMetrics, listMetrics, recentHostCpu, rollUpMetrics } from './metrics.ts';
import { runMigrations } from './migrator.ts';
import type { Database } from './schema.ts';
import { getAgentConfig, setAgentConfig } from './settings.ts';
import type { TaskStore } from './task-types.ts';
import { taskStore } from './tasks.ts';
import {
  createEnrolment,
  createToken,
  deleteEnrolment,
  enrol,
  listEnrolments,
  listTokens,
  revokeToken,
  verifyToken,
} from './tokens.ts';
import {
  type AgentSettings,
  type AuditEntry,
  DEFAULT_HOST_GAPS,
  type FindingQuery,
  type HostGaps,
  type HostQuery,
  type IsolationAction,
  type IsolationPatch,
  type IsolationQuery,
  type IsolationStateName,
  type MetricSample,
  type NewIsolation,
  type PruneResult,
  type Role,
  type Store,
} from './types.ts';
import { isoTime } from './values.ts';

export interface StoreOptions {
  /** How long a host may be silent before it is stale / offline. */
  gaps?: HostGaps;
  /** The clock for expiry, lastUsedAt and host status (tests pin it). */
  now?: () => number;
}

export interface EngineHooks {
  kind: 'sqlite' | 'postgres';
  sizeBytes: () => Promise<number>;
  /** Run after the pool is destroyed (e.g. nothing, or removing temp files). */
  afterClose?: () => Promise<void>;
}

/** The Store over any kysely database whose dialect speaks the portable subset both engines share. */
export class KyselyStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly #ctx: StoreContext;
  readonly #hooks: EngineHooks;
  readonly #ingest: IngestQueue;
  readonly #ingestListeners = new Set<(batch: readonly Finding[]) => void>();
  readonly incidents: IncidentStore;
  readonly tasks: TaskStore;

  constructor(db: Kysely<Database>, hooks: EngineHooks, options: StoreOptions = {}) {
    this.kind = hooks.kind;
    this.#hooks = hooks;
    this.#ctx = { db, now: options.now ?? Date.now, gaps: options.gaps ?? DEFAULT_HOST_GAPS };
    // One grouped transaction at a time on both engines. SQLite has one writer; on PostgreSQL
    // groups side by side wait on each other's locks of the shared counter rows (counters.ts),
    // which cost more than they gained: 3,500 findings/s with four at once, 8,200 with one
    // (bench/server/ingest.ts, same run). Several servers on one database still write side by side.
    this.#ingest = new IngestQueue(this.#ctx, 1);
    this.incidents = incidentStore(this.#ctx);
    this.tasks = taskStore(this.#ctx);
  }

  ingestIdle(maxWaitMs: number): Promise<void> {
    return this.#ingest.idle(maxWaitMs);
  }

  onIngested(listener: (batch: readonly Finding[]) => void): () => void {
    this.#ingestListeners.add(listener);
    return () => {
      this.#ingestListeners.delete(listener);
    };
  }

  /** The kysely instance, for tests and maintenance tools; the server goes through the methods. */
  get db(): Kysely<Database> {
    return this.#ctx.db;
  }

  /** Runs pending migrations; `last` stops after that one (for tests of upgrades from an older schema). */
  async migrate(last?: string): Promise<void> {
    await runMigrations(this.#ctx.db, last);
  }

  async close(): Promise<void> {
    await this.#ctx.db.destroy();
    await this.#hooks.afterClose?.();
  }

  createToken(t: { role: Role; name: string; hostId?: string }) {
    return createToken(this.#ctx, t);
  }
  verifyToken(token: string) {
    return verifyToken(this.#ctx, token);
  }
  revokeToken(id: string) {
    return revokeToken(this.#ctx, id);
  }
  listTokens() {
    return listTokens(this.#ctx);
  }
  createEnrolment(e: { expiresAt: string; uses: number; createdBy: string }) {
    return createEnrolment(this.#ctx, e);
  }
  listEnrolments() {
    return listEnrolments(this.#ctx);
  }
  deleteEnrolment(id: string) {
    return deleteEnrolment(this.#ctx, id);
  }
  enrol(secret: string, host: Parameters<Store['enrol']>[1]) {
    return enrol(this.#ctx, secret, host);
  }

  touchHost(h: Parameters<Store['touchHost']>[0]) {
    const { at, ...rest } = h;
    return this.#ctx.db
      .transaction()
      .execute((trx) => upsertHost(trx, this.#ctx, { ...rest, firstAt: at, lastAt: at }));
  }
  getHost(id: string) {
    return getHost(this.#ctx, id);
  }
  listHosts(q: HostQuery) {
    return listHosts(this.#ctx, q);
  }
  countHosts() {
    return countHosts(this.#ctx);
  }
  recentHostCpu(hostIds: readonly string[], n: number) {
    return recentHostCpu(this.#ctx, hostIds, n);
  }

  ingestFindings(batch: readonly Finding[], opts: { idempotencyKey?: string; actor: string; at: string }) {
    return this.#ingest.submit({ batch, ...opts }).then((result) => {
      // After the commit, outside the transaction: listeners queue their work.
      if (!result.replayed && batch.length > 0)
        for (const l of this.#ingestListeners) {
          try {
            l(batch);
          } catch {
            // A listener's failure is its own; the batch is stored.
          }
        }
      return result;
    });
  }
  listFindings(q: FindingQuery) {
    return listFindings(this.#ctx, q);
  }
  getFinding(fingerprint: string) {
    return getFinding(this.#ctx, fingerprint);
  }
  acknowledge(fingerprints: readonly string[], by: string, at: string) {
    return acknowledge(this.#ctx, fingerprints, by, at);
  }
  openFindings() {
    return openFindings(this.#ctx);
  }
  openFindingsByHost(hostNames: readonly string[]) {
    return openFindingsByHost(this.#ctx, hostNames);
  }
  listSightings(q: { from: string; to: string }) {
    return listSightings(this.#ctx, {
      from: isoTime(q.from, 'from'),
      to: isoTime(q.to, 'to'),
    });
  }
  activeFindings(q: { since: string; minSeverity: Severity; limit: number }) {
    return activeFindings(this.#ctx, q);
  }
  ruleActivity(q: { since?: string; ruleId?: string }) {
    return ruleActivity(this.#ctx, q);
  }

  addMetrics(samples: readonly MetricSample[]) {
    return addMetrics(this.#ctx, samples);
  }
  listMetrics(q: { hostId: string; subject?: string; from?: string; to?: string; limit?: number }) {
    return listMetrics(this.#ctx, q);
  }

  getAgentConfig() {
    return getAgentConfig(this.#ctx);
  }
  setAgentConfig(config: AgentSettings, actor: string) {
    return setAgentConfig(this.#ctx, config, actor);
  }

  getHostByName(name: string) {
    return getHostByName(this.#ctx, name);
  }
  createIsolation(i: NewIsolation) {
    return createIsolation(this.#ctx, i);
  }
  getIsolation(id: string) {
    return getIsolation(this.#ctx, id);
  }
  currentIsolation(hostId: string) {
    return currentIsolation(this.#ctx, hostId);
  }
  listIsolations(q: IsolationQuery) {
    return listIsolations(this.#ctx, q);
  }
  updateIsolation(id: string, patch: IsolationPatch, from?: readonly IsolationStateName[]) {
    return updateIsolation(this.#ctx, id, patch, from);
  }
  addIsolationAction(a: Omit<IsolationAction, 'seq'> & { hostId: string }) {
    return addIsolationAction(this.#ctx, a);
  }
  listIsolationActions(isolationId: string, limit?: number) {
    return listIsolationActions(this.#ctx, isolationId, limit);
  }

  audit(e: AuditEntry) {
    return appendAudit(this.#ctx, e);
  }
  listAudit(q: { limit?: number; cursor?: string }) {
    return listAudit(this.#ctx, q);
  }

  /**
   * Deletions in one transaction (idempotency keys go with the findings
   * they guarded), then each downsampling step in one of its own: what is
   * about to be deleted is not rolled up first.
   */
  async prune(before: {
    findings?: string;
    metrics?: string;
    audit?: string;
    rawMetrics?: string;
    fiveMinuteMetrics?: string;
  }): Promise<PruneResult> {
    const time = (v: string | undefined, field: string) => (v === undefined ? undefined : isoTime(v, field));
    const cut = {
      findings: time(before.findings, 'findings'),
      metrics: time(before.metrics, 'metrics'),
      audit: time(before.audit, 'audit'),
      rawMetrics: time(before.rawMetrics, 'rawMetrics'),
      fiveMinuteMetrics: time(before.fiveMinuteMetrics, 'fiveMinuteMetrics'),
    };
    const removed = await this.#ctx.db.transaction().execute(async (trx) => {
      const removed = { findings: 0, metrics: 0, audit: 0 };
      if (cut.findings !== undefined) {
        const old = cut.findings;
        await trx
          .deleteFrom('finding_techniques')
          .where('fingerprint', 'in', (eb) =>
            eb.selectFrom('findings').select('fingerprint').where('last_seen', '<', old),
          )
          .execute();
        const gone = await deleteFindingsCounted(trx, this.kind, old);
        removed.findings = gone.findings;
        await applyOpenDeltas(trx, gone.open);
        // Sightings of whole hours before the cut go with the findings (the hour the cut falls in stays).
        await trx.deleteFrom('finding_sightings').where('hour', '<', hourOf(old)).execute();
        await trx.deleteFrom('ingest_keys').where('at', '<', old).execute();
      }
      if (cut.metrics !== undefined) {
        const r = await trx.deleteFrom('metrics').where('at', '<', cut.metrics).executeTakeFirst();
        // A bucket goes when its start is older than the cut (as listMetrics() places it).
        const b = await trx.deleteFrom('metric_rollups').where('at', '<', cut.metrics).executeTakeFirst();
        removed.metrics = Number(r.numDeletedRows) + Number(b.numDeletedRows);
      }
      if (cut.audit !== undefined) {
        const r = await trx.deleteFrom('audit').where('at', '<', cut.audit).executeTakeFirst();
        removed.audit = Number(r.numDeletedRows);
      }
      return removed;
    });
    const rolledUp = await rollUpMetrics(this.#ctx, {
      ...(cut.rawMetrics === undefined ? {} : { rawBefore: cut.rawMetrics }),
      ...(cut.fiveMinuteMetrics === undefined ? {} : { fiveMinuteBefore: cut.fiveMinuteMetrics }),
    });
    return { ...removed, rolledUp };
  }

  sizeBytes(): Promise<number> {
    return this.#hooks.sizeBytes();
  }
}

/**
 * Deletes the findings last seen before `cut`; returns how many, and the
 * open-findings counters' changes for the unacknowledged ones among them.
 * PostgreSQL counts what its DELETE returned, grouped in the database
 * (exact whatever a concurrent ingest does meanwhile); SQLite has one
 * writer, so counting first and deleting next in one transaction is as exact.
 */
async function deleteFindingsCounted(
  trx: Kysely<Database>,
  kind: 'sqlite' | 'postgres',
  cut: string,
): Promise<{ findings: number; open: OpenDeltas }> {
  const open = new OpenDeltas();
  let findings = 0;
  type Row = { host_name: string; severity: string; acknowledged: number; n: string | number };
  let rows: Row[];
  if (kind === 'postgres') {
    rows = (
      await sql<Row>`with gone as (
          delete from findings where last_seen < ${cut} returning host_name, severity, acknowledged
        ) select host_name, severity, acknowledged, count(*) as n from gone group by host_name, severity, acknowledged`.execute(
        trx,
      )
    ).rows;
  } else {
    rows = await trx
      .selectFrom('findings')
      .select((eb) => ['host_name', 'severity', 'acknowledged', eb.fn.countAll<number>().as('n')])
      .where('last_seen', '<', cut)
      .groupBy(['host_name', 'severity', 'acknowledged'])
      .execute();
    const r = await trx.deleteFrom('findings').where('last_seen', '<', cut).executeTakeFirst();
    const deleted = Number(r.numDeletedRows);
    const counted = rows.reduce((sum, x) => sum + Number(x.n), 0);
    if (deleted !== counted) throw new Error(`prune: counted ${counted} findings, deleted ${deleted}`);
  }
  for (const r of rows) {
    const n = Number(r.n);
    findings += n;
    if (Number(r.acknowledged) === 0) open.add(r.host_name, r.severity, -n);
  }
  return { findings, open };
}
